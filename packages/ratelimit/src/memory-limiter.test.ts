import { tracingChannel } from 'node:diagnostics_channel'
import { InvalidArgumentError } from '@x/redis-core'
import { describe, expect, it, vi } from 'vitest'
import { createMemoryRateLimiter } from './memory-limiter.js'
import type { Algorithm } from './policy.js'

/** A limiter on a hand-driven clock (microseconds). */
function onClock(algorithm: Algorithm, limit: number, windowMs: number, extra: { burst?: number } = {}) {
  let now = 1_700_000_000_000_000
  const limiter = createMemoryRateLimiter({
    policies: [{ algorithm, limit, windowMs, ...extra }],
    clock: () => now,
  })
  return {
    limiter,
    advance: (ms: number) => {
      now += ms * 1000
    },
  }
}

describe('memory limiter', () => {
  describe.each(['gcra', 'sliding-window', 'fixed-window', 'sliding-log'] as const)('%s', (algorithm) => {
    it('admits the limit, rejects, and admits again after exactly retryAfterMs', () => {
      const { limiter, advance } = onClock(algorithm, 3, 1000)
      expect([1, 2, 3, 4].map(() => limiter.limit('k').allowed)).toEqual([true, true, true, false])
      const rejected = limiter.limit('k')
      expect(rejected.reason).toBe('limited')
      advance(rejected.retryAfterMs - 1)
      expect(limiter.peek('k').allowed).toBe(false)
      advance(1)
      expect(limiter.limit('k').allowed).toBe(true)
    })

    it('refund never exceeds capacity; a cost above capacity never fits', () => {
      const { limiter } = onClock(algorithm, 3, 1000)
      limiter.limit('k', { cost: 2 })
      expect(limiter.refund('k', 5).remaining).toBe(3)
      const never = limiter.limit('k', { cost: 4 })
      expect(never.reason).toBe('cost-exceeds-limit')
      expect(never.retryAfterMs).toBe(Number.POSITIVE_INFINITY)
      expect(limiter.peek('k').remaining).toBe(3)
    })
  })

  it('gcra: burst above the rate, then one unit per interval', () => {
    const { limiter, advance } = onClock('gcra', 10, 1000, { burst: 20 })
    let admitted = 0
    for (let i = 0; i < 30; i++) if (limiter.limit('k').allowed) admitted++
    expect(admitted).toBe(20)
    advance(100)
    expect(limiter.limit('k').allowed).toBe(true)
    expect(limiter.limit('k').allowed).toBe(false)
  })

  it('sliding window: the previous window weighs in by its remaining overlap', () => {
    // The clock starts on a window boundary.
    const { limiter, advance } = onClock('sliding-window', 10, 1000)
    limiter.limit('k', { cost: 10 })
    advance(1250)
    // A quarter into the next window, 75 % of the previous 10 still count: 7.5 used.
    expect(limiter.peek('k').remaining).toBe(2)
    expect(limiter.limit('k', { cost: 2 }).allowed).toBe(true)
    const rejected = limiter.limit('k')
    // 7.5 - 10 × elapsed + 2 ≤ 9 once elapsed ≥ 50 ms (rounded up past the exact instant).
    expect(rejected.retryAfterMs).toBe(51)
    advance(51)
    expect(limiter.limit('k').allowed).toBe(true)
  })

  it('several policies are all or nothing', () => {
    let now = 1_000_000_000
    const limiter = createMemoryRateLimiter({
      policies: [
        { name: 'a', algorithm: 'fixed-window', limit: 2, windowMs: 1000 },
        { name: 'b', algorithm: 'sliding-log', limit: 5, windowMs: 60_000 },
      ],
      clock: () => now,
    })
    limiter.limit('k', { cost: 2 })
    expect(limiter.limit('k').allowed).toBe(false)
    expect(limiter.peek('k').policies.map((policy) => policy.remaining)).toEqual([0, 3])
    now += 1_000_000
    expect(limiter.limit('k', { cost: 2 }).allowed).toBe(true)
    expect(limiter.limit('k', { cost: 2 }).policies[1]!.remaining).toBe(1)
  })

  it('keeps at most maxKeys keys', () => {
    const limiter = createMemoryRateLimiter({ policies: [{ limit: 1, windowMs: 1000 }], maxKeys: 3 })
    for (let i = 0; i < 10; i++) limiter.limit(`k${i}`)
    expect(limiter.size).toBe(3)
    limiter.reset('k9')
    expect(limiter.size).toBe(2)
  })

  it('stats() counts checks, admissions, rejections and evictions, and holds the keys gauge', () => {
    const { limiter } = onClock('fixed-window', 2, 1000)
    expect(limiter.stats()).toEqual({ checks: 0, admitted: 0, rejected: 0, evictions: 0, keys: 0 })
    for (let i = 0; i < 3; i++) limiter.limit('a')
    limiter.limit('b', { cost: 3 })
    // peek and refund are not checks; a check refused for bad input was never answered.
    limiter.peek('a')
    limiter.refund('b')
    expect(() => limiter.limit('a', { cost: -1 })).toThrow(InvalidArgumentError)
    const stats = limiter.stats()
    expect(stats).toEqual({ checks: 4, admitted: 2, rejected: 2, evictions: 0, keys: 2 })
    // A fresh object each time: changing it changes nothing inside.
    stats.checks = 99
    expect(limiter.stats().checks).toBe(4)
    limiter.reset('a')
    expect(limiter.stats().keys).toBe(1)

    const bounded = createMemoryRateLimiter({ policies: [{ limit: 1, windowMs: 1000 }], maxKeys: 2 })
    for (const key of ['k1', 'k2', 'k3', 'k4']) bounded.limit(key)
    expect(bounded.stats()).toMatchObject({ checks: 4, evictions: 2, keys: 2 })
  })

  it('limited fires for every rejected check, with its key and result, until the listener is removed', () => {
    const { limiter } = onClock('gcra', 1, 1000)
    const seen: Array<{ key: string; allowed: boolean; reason: string | undefined }> = []
    const off = limiter.on('limited', ({ key, result }) =>
      seen.push({ key, allowed: result.allowed, reason: result.reason }),
    )
    limiter.limit('k')
    const rejected = limiter.limit('k')
    limiter.peek('k')
    limiter.limit('other', { cost: 2 })
    expect(seen).toEqual([
      { key: 'k', allowed: false, reason: 'limited' },
      { key: 'other', allowed: false, reason: 'cost-exceeds-limit' },
    ])
    expect(rejected.allowed).toBe(false)
    off()
    limiter.limit('k')
    expect(seen).toHaveLength(2)
  })

  it('a listener that throws does not change the answer', () => {
    const report = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      const { limiter } = onClock('gcra', 1, 1000)
      limiter.on('limited', () => {
        throw new Error('listener bug')
      })
      limiter.limit('k')
      expect(limiter.limit('k').allowed).toBe(false)
      expect(limiter.stats().rejected).toBe(1)
      expect(report).toHaveBeenCalledTimes(1)
    } finally {
      report.mockRestore()
    }
  })

  it('publishes no check on x:ratelimit:limit, so a fallback answer is traced once (by the Redis limiter)', () => {
    const started: unknown[] = []
    const handlers = {
      start: (context: unknown) => void started.push(context),
      end() {},
      asyncStart() {},
      asyncEnd() {},
      error() {},
    }
    const channel = tracingChannel('x:ratelimit:limit')
    channel.subscribe(handlers)
    try {
      const { limiter } = onClock('gcra', 1, 1000)
      limiter.limit('k')
      limiter.limit('k')
      expect(started).toEqual([])
    } finally {
      channel.unsubscribe(handlers)
    }
  })

  it('rejects bad input', () => {
    const limiter = createMemoryRateLimiter({ policies: [{ limit: 1, windowMs: 1000 }] })
    expect(() => limiter.limit('')).toThrow(InvalidArgumentError)
    expect(() => limiter.limit('k', { cost: 0 })).toThrow(InvalidArgumentError)
    expect(() => createMemoryRateLimiter({ policies: [] })).toThrow(InvalidArgumentError)
  })
})
