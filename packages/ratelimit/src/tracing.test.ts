import { tracingChannel } from 'node:diagnostics_channel'
import { createRedis, InvalidArgumentError } from '@x/redis-core'
import { eventually, targets, useRedis } from '@x/testkit/vitest'
import { describe, expect, it } from 'vitest'
import { createConcurrencyLimiter } from './concurrency-limiter.js'
import { createRateLimiter } from './rate-limiter.js'

interface Seen {
  event: 'start' | 'asyncEnd' | 'error'
  context: Record<string, unknown>
}

/** Subscribes to `x:ratelimit:<operation>` and records copies of the contexts at each event. */
function record(operation: string): { seen: Seen[]; stop(): void } {
  const channel = tracingChannel(`x:ratelimit:${operation}`)
  const seen: Seen[] = []
  const copy = (event: Seen['event']) => (message: unknown) => {
    seen.push({ event, context: JSON.parse(JSON.stringify(message)) as Record<string, unknown> })
  }
  const ignore = () => {}
  const handlers = {
    start: copy('start'),
    end: ignore,
    asyncStart: ignore,
    asyncEnd: copy('asyncEnd'),
    error: copy('error'),
  }
  channel.subscribe(handlers)
  return { seen, stop: () => channel.unsubscribe(handlers) }
}

describe.each(targets())('$name', (target) => {
  const redis = useRedis(target, createRedis)
  let n = 0
  const prefix = () => `${target.prefix}:tr${n++}`

  it('x:ratelimit:limit carries the key, the outcome per policy and the round trips', async () => {
    const limiter = createRateLimiter({
      redis,
      prefix: prefix(),
      policies: [
        { name: 'burst', limit: 1, windowMs: 60_000 },
        { name: 'daily', algorithm: 'fixed-window', limit: 100, windowMs: 86_400_000 },
      ],
    })
    const trace = record('limit')
    try {
      await limiter.limit('user-1')
      await limiter.limit('user-1')
    } finally {
      trace.stop()
    }
    const ends = trace.seen.filter((entry) => entry.event === 'asyncEnd').map((entry) => entry.context)
    expect(ends).toHaveLength(2)
    // The first call of a limiter measures the server clock first: two round trips, then one.
    expect(ends[0]).toMatchObject({
      key: 'user-1',
      cost: 1,
      outcome: 'allowed',
      roundTrips: 2,
      policies: [
        { name: 'burst', outcome: 'allowed' },
        { name: 'daily', outcome: 'allowed' },
      ],
    })
    expect(ends[1]).toMatchObject({
      outcome: 'limited',
      roundTrips: 1,
      policies: [
        { name: 'burst', outcome: 'limited' },
        { name: 'daily', outcome: 'allowed' },
      ],
    })
    expect(trace.seen.filter((entry) => entry.event === 'start')).toHaveLength(2)
  })

  it('a blocked-cache answer is traced with no round trip; a rejected call goes to the error event', async () => {
    const limiter = createRateLimiter({
      redis,
      prefix: prefix(),
      limit: 1,
      windowMs: 60_000,
      blockedCache: true,
    })
    await limiter.limit('k')
    await limiter.limit('k')
    const trace = record('limit')
    try {
      await limiter.limit('k')
      await expect(limiter.limit('bad{key}')).rejects.toSatisfy(InvalidArgumentError.isInstance)
    } finally {
      trace.stop()
    }
    expect(trace.seen.map((entry) => [entry.event, entry.context.outcome, entry.context.roundTrips])).toEqual(
      [
        ['start', undefined, 0],
        ['asyncEnd', 'blocked-cache', 0],
        ['start', undefined, 0],
        ['error', undefined, 0],
        ['asyncEnd', undefined, 0],
      ],
    )
  })

  it('x:ratelimit:acquire and release never carry the lease id', async () => {
    const limiter = createConcurrencyLimiter({ redis, prefix: prefix(), limit: 1 })
    const acquire = record('acquire')
    const release = record('release')
    let id = ''
    try {
      const first = await limiter.acquire('job')
      id = first.lease!.id
      expect((await limiter.acquire('job')).acquired).toBe(false)
      await first.lease!.release()
      // asyncEnd is published a few microtasks after the caller's promise settles.
      const ended = (trace: { seen: Seen[] }) =>
        trace.seen.filter((entry) => entry.event === 'asyncEnd').length
      await eventually(() => ended(acquire) === 2 && ended(release) === 1)
    } finally {
      acquire.stop()
      release.stop()
    }
    const outcomes = acquire.seen.filter((entry) => entry.event === 'asyncEnd').map((entry) => entry.context)
    expect(outcomes).toMatchObject([
      { key: 'job', outcome: 'acquired', leaseMs: 30_000, roundTrips: 2 },
      { key: 'job', outcome: 'limited', roundTrips: 1 },
    ])
    expect(release.seen.find((entry) => entry.event === 'asyncEnd')?.context).toMatchObject({
      key: 'job',
      outcome: 'released',
    })
    expect(id).toHaveLength(21)
    expect(JSON.stringify([acquire.seen, release.seen])).not.toContain(id)
  })
})
