import { tracingChannel } from 'node:diagnostics_channel'
import { describe, expect, it } from 'vitest'
import { createTracing, tracingChannelName } from './tracing.js'

type Seen = Array<[string, Record<string, unknown>]>

function subscribe(name: string) {
  const seen: Seen = []
  const record = (kind: string) => (message: unknown) => {
    seen.push([kind, { ...(message as Record<string, unknown>) }])
  }
  const handlers = {
    start: record('start'),
    end: record('end'),
    asyncStart: record('asyncStart'),
    asyncEnd: record('asyncEnd'),
    error: record('error'),
  }
  const channel = tracingChannel(name)
  channel.subscribe(handlers)
  return { seen, unsubscribe: () => channel.unsubscribe(handlers) }
}

describe('createTracing', () => {
  it('names channels x:<package>:<operation>', () => {
    expect(tracingChannelName('cache', 'getOrSet')).toBe('x:cache:getOrSet')
    expect(createTracing('cache').operation('getOrSet').name).toBe('x:cache:getOrSet')
  })

  it('just runs the operation when nobody subscribes', async () => {
    const tracer = createTracing('test-idle').operation('get')
    expect(tracer.active).toBe(false)
    const context = { key: 'k' }
    await expect(tracer.trace(context, async () => 7)).resolves.toBe(7)
    expect(tracer.traceSync(context, () => 8)).toBe(8)
    expect(context).toEqual({ key: 'k' })
  })

  it('publishes start, end, asyncStart and asyncEnd with the fields the operation set', async () => {
    const tracing = createTracing('test-async')
    const { seen, unsubscribe } = subscribe('x:test-async:getOrSet')
    try {
      expect(tracing.operation('getOrSet').active).toBe(true)
      const result = await tracing.trace(
        'getOrSet',
        { key: 'user:1' } as Record<string, unknown>,
        async () => {
          await Promise.resolve()
          return 'value'
        },
      )
      expect(result).toBe('value')
      const context: Record<string, unknown> = { key: 'user:2' }
      await tracing.trace('getOrSet', context, async () => {
        context.outcome = 'hit-l1'
        return 1
      })
      const kinds = seen.map(([kind]) => kind)
      expect(kinds).toEqual([
        'start',
        'end',
        'asyncStart',
        'asyncEnd',
        'start',
        'end',
        'asyncStart',
        'asyncEnd',
      ])
      expect(seen[0]?.[1]).toEqual({ key: 'user:1' })
      expect(seen[3]?.[1]).toMatchObject({ key: 'user:1' })
      // What the operation returned (a cached value, a token) is the caller's, never the subscribers'.
      expect(seen[3]?.[1]).not.toHaveProperty('result', 'value')
      expect(seen[7]?.[1]).toMatchObject({ key: 'user:2', outcome: 'hit-l1' })
      expect(seen[7]?.[1]).not.toHaveProperty('result', 1)
    } finally {
      unsubscribe()
    }
    expect(tracing.operation('getOrSet').active).toBe(false)
  })

  it('publishes a rejection on the error channel and still rejects the caller', async () => {
    const tracing = createTracing('test-error')
    const { seen, unsubscribe } = subscribe('x:test-error:acquire')
    try {
      const boom = new Error('busy')
      await expect(tracing.trace('acquire', { resource: 'r' }, () => Promise.reject(boom))).rejects.toBe(boom)
      const error = seen.find(([kind]) => kind === 'error')
      expect(error?.[1]).toMatchObject({ resource: 'r', error: boom })
      expect(seen.map(([kind]) => kind)).toContain('asyncEnd')
    } finally {
      unsubscribe()
    }
  })

  it('traces synchronous operations, throws included', () => {
    const tracing = createTracing('test-sync')
    const { seen, unsubscribe } = subscribe('x:test-sync:parse')
    try {
      expect(tracing.traceSync('parse', { channel: 'c' }, () => 3)).toBe(3)
      expect(() =>
        tracing.traceSync('parse', { channel: 'c' }, () => {
          throw new Error('bad')
        }),
      ).toThrow('bad')
      expect(seen.map(([kind]) => kind)).toEqual(['start', 'end', 'start', 'error', 'end'])
      expect(seen[1]?.[1]).not.toHaveProperty('result', 3)
    } finally {
      unsubscribe()
    }
  })
})
