import diagnostics from 'node:diagnostics_channel'
import { context, trace } from '@opentelemetry/api'
import { TimeoutError } from '@x/redis-core'
import { afterEach, describe, expect, it } from 'vitest'
import { instrument } from './instrument.js'
import { createTestSdk } from './test-support.js'

// The packages publish through core's tracing helper; these tests publish the same events by hand so
// that the mapping is pinned independently of any package (real operations: real-operations.test.ts).
const publish = <T>(
  name: string,
  fields: Record<string, unknown>,
  fn: (ctx: Record<string, unknown>) => Promise<T>,
) => {
  const channel = diagnostics.tracingChannel(name)
  const ctx: Record<string, unknown> = { ...fields }
  return channel.tracePromise(() => fn(ctx), ctx)
}

describe('instrument', () => {
  let sdk = createTestSdk()
  let closeInstrumentation: (() => void) | undefined
  afterEach(async () => {
    closeInstrumentation?.()
    await sdk.shutdown()
    sdk = createTestSdk()
  })
  const start = (options = {}) => {
    const instrumentation = instrument({
      tracerProvider: sdk.tracerProvider,
      meterProvider: sdk.meterProvider,
      ...options,
    })
    closeInstrumentation = instrumentation.close
    return instrumentation
  }

  it('turns an operation into a span named after it, with the outcome set during the operation', async () => {
    start()
    await publish('x:cache:getOrSet', { key: 'user:1' }, async (ctx) => {
      ctx.outcome = 'hit-l2'
      return { secret: 'value never exported' }
    })
    const [span] = sdk.spans()
    expect(span?.name).toBe('cache getOrSet')
    expect(span?.attributes).toMatchObject({
      'x.package': 'cache',
      'x.operation': 'getOrSet',
      'x.key': 'user:1',
      'x.outcome': 'hit-l2',
    })
    expect(JSON.stringify(span?.attributes)).not.toContain('value never exported')
  })

  it('makes the span a child of the span active when the operation was called', async () => {
    start()
    const parent = sdk.tracerProvider.getTracer('app').startSpan('request')
    await context.with(trace.setSpan(context.active(), parent), () =>
      publish('x:ratelimit:limit', { key: 'ip:1' }, async (ctx) => {
        ctx.outcome = 'limited'
      }),
    )
    parent.end()
    const child = sdk.spans().find((span) => span.name === 'ratelimit limit')
    expect(child?.parentSpanContext?.spanId).toBe(parent.spanContext().spanId)
    expect(child?.spanContext().traceId).toBe(parent.spanContext().traceId)
  })

  it('records a failure with the stable error code as error.type', async () => {
    start()
    await expect(
      publish('x:lock:acquire', { resource: 'jobs' }, async () => {
        throw new TimeoutError('Redis call did not finish within 5 ms', { timeoutMs: 5 } as never)
      }),
    ).rejects.toThrow(TimeoutError)
    const [span] = sdk.spans()
    expect(span?.status.code).toBe(2)
    expect(span?.attributes['error.type']).toBe('E_TIMEOUT')
    const points = await sdk.points('x.operation.duration')
    expect(points.map((point) => point.attributes)).toContainEqual(
      expect.objectContaining({ 'x.package': 'lock', 'x.operation': 'acquire', 'error.type': 'E_TIMEOUT' }),
    )
  })

  it('counts cache outcomes by tier and limiter decisions by reason', async () => {
    start()
    for (const outcome of ['hit-l1', 'hit-l1', 'hit-l2', 'miss']) {
      await publish('x:cache:getOrSet', { key: 'k' }, async (ctx) => {
        ctx.outcome = outcome
      })
    }
    await publish('x:ratelimit:limit', { key: 'ip' }, async (ctx) => {
      ctx.outcome = 'fail-open'
    })
    const cache = await sdk.points('x.cache.requests')
    const count = (outcome: string) =>
      cache.find((point) => point.attributes['x.outcome'] === outcome)?.value as number | undefined
    expect([count('hit-l1'), count('hit-l2'), count('miss')]).toEqual([2, 1, 1])
    const decisions = await sdk.points('x.ratelimit.decisions')
    expect(decisions).toEqual([
      expect.objectContaining({
        value: 1,
        attributes: expect.objectContaining({ 'x.outcome': 'fail-open' }),
      }),
    ])
  })

  it('times lock waits and holds, pubsub lag, handler errors and dead letters', async () => {
    start()
    await publish('x:lock:acquire', { resource: 'r' }, async (ctx) => {
      ctx.outcome = 'acquired'
      ctx.waitedMs = 250
    })
    await publish('x:lock:release', { resource: 'r' }, async (ctx) => {
      ctx.heldMs = 1500
    })
    await publish('x:pubsub:deliver', { channel: 'orders' }, async (ctx) => {
      ctx.outcome = 'delivered'
    })
    // A stream entry's ID carries its publishing time: the lag is its age when the handler finished.
    await publish('x:pubsub:consume', { stream: 'jobs', id: `${Date.now() - 20_000}-0` }, async (ctx) => {
      ctx.outcome = 'failed'
    })
    await publish('x:pubsub:consume', { stream: 'jobs', id: `${Date.now()}-1` }, async (ctx) => {
      ctx.outcome = 'dead-lettered'
    })
    const sum = async (name: string) =>
      (await sdk.points(name)).map((point) => point.value as { sum: number; count: number })
    expect((await sum('x.lock.wait.duration'))[0]).toMatchObject({ sum: 0.25, count: 1 })
    expect((await sum('x.lock.hold.duration'))[0]).toMatchObject({ sum: 1.5, count: 1 })
    const lag = (await sum('x.pubsub.delivery.lag'))[0]
    expect(lag?.count).toBe(2)
    expect(lag?.sum).toBeGreaterThanOrEqual(20)
    expect((await sdk.points('x.pubsub.handler.errors'))[0]?.value).toBe(1)
    expect((await sdk.points('x.pubsub.dead_letters'))[0]?.value).toBe(1)
  })

  it('listens only while open: after close the channels have no subscriber', async () => {
    const channel = diagnostics.tracingChannel('x:session:get')
    const hasSubscribers = () => channel.start.hasSubscribers || channel.asyncEnd.hasSubscribers
    expect(hasSubscribers()).toBe(false)
    const instrumentation = start({ packages: ['session'] })
    expect(hasSubscribers()).toBe(true)
    instrumentation.close()
    expect(hasSubscribers()).toBe(false)
  })

  it('can leave spans or metrics off', async () => {
    start({ enabled: { spans: false } })
    await publish('x:session:get', {}, async (ctx) => {
      ctx.outcome = 'found'
    })
    expect(sdk.spans()).toEqual([])
    expect((await sdk.points('x.session.operations'))[0]?.value).toBe(1)
  })
})
