import { createRedis, slotOf } from '@x/redis-core'
import { countCommands, sleep, targets, useRedis } from '@x/testkit/vitest'
import { describe, expect, it } from 'vitest'
import { MAX_FIXED_WINDOW_LIMIT } from './policy.js'
import { createRateLimiter } from './rate-limiter.js'

describe.each(targets())('$name', (target) => {
  const redis = useRedis(target, createRedis)
  const inspect = useRedis(target)
  let n = 0
  const prefix = () => `${target.prefix}:p${n++}`

  it('several policies of different algorithms in one EVALSHA, all or nothing', async () => {
    const limiter = createRateLimiter({
      redis,
      prefix: prefix(),
      policies: [
        { name: 'second', algorithm: 'gcra', limit: 3, windowMs: 10_000 },
        { name: 'minute', algorithm: 'sliding-window', limit: 5, windowMs: 60_000 },
        { name: 'hour', algorithm: 'fixed-window', limit: 6, windowMs: 3_600_000 },
        { name: 'day', algorithm: 'sliding-log', limit: 7, windowMs: 86_400_000 },
      ],
    })
    // Warm up on the same key: on Cluster each master loads the script on its first call.
    await limiter.peek('user')
    const counter = countCommands(redis)
    let last = await limiter.limit('user')
    try {
      expect(counter.names()).toEqual(['evalsha'])
    } finally {
      counter.restore()
    }
    expect(last.policies.map((p) => [p.name, p.remaining])).toEqual([
      ['second', 2],
      ['minute', 4],
      ['hour', 5],
      ['day', 6],
    ])
    last = await limiter.limit('user', { cost: 2 })
    expect(last.allowed).toBe(true)
    expect(last.remaining).toBe(0)
    expect(last.limit).toBe(3)
    for (let i = 0; i < 4; i++) {
      last = await limiter.limit('user')
      expect(last.allowed).toBe(false)
    }
    // Only "second" is exhausted, and the rejected requests spent nothing anywhere.
    expect(last.policies.map((p) => [p.name, p.remaining, p.retryAfterMs > 0])).toEqual([
      ['second', 0, true],
      ['minute', 2, false],
      ['hour', 3, false],
      ['day', 4, false],
    ])
    expect(last.retryAfterMs).toBe(last.policies[0]!.retryAfterMs)
  })

  it('the tightest policy wins and retryAfterMs is the longest wait among the rejecting policies', async () => {
    // Sliding logs, not windows aligned to the clock: a check made just before a window boundary
    // would see the long window end within milliseconds.
    const limiter = createRateLimiter({
      redis,
      prefix: prefix(),
      policies: [
        { name: 'short', algorithm: 'sliding-log', limit: 2, windowMs: 1000 },
        { name: 'long', algorithm: 'sliding-log', limit: 2, windowMs: 60_000 },
      ],
    })
    await limiter.limit('k', { cost: 2 })
    const result = await limiter.limit('k')
    expect(result.allowed).toBe(false)
    const [short, long] = result.policies
    expect(short!.retryAfterMs).toBeLessThanOrEqual(1000)
    expect(long!.retryAfterMs).toBeGreaterThan(1000)
    expect(result.retryAfterMs).toBe(long!.retryAfterMs)
    expect(result.resetMs).toBe(long!.resetMs)
  })

  it('all keys of one check share the hash tag of the limited key', async () => {
    const p = prefix()
    const limiter = createRateLimiter({
      redis,
      prefix: p,
      policies: [
        { name: 'a', algorithm: 'gcra', limit: 3, windowMs: 1000 },
        { name: 'b', algorithm: 'sliding-log', limit: 3, windowMs: 1000 },
      ],
    })
    await limiter.limit('10.0.0.1')
    await limiter.block('10.0.0.1', 1000)
    const keys = [`${p}:{10.0.0.1}:g:a`, `${p}:{10.0.0.1}:l:b`, `${p}:{10.0.0.1}:!`]
    for (const key of keys) expect(await inspect.exists(key)).toBe(1)
    expect(new Set(keys.map(slotOf)).size).toBe(1)
  })

  it('peek spends nothing', async () => {
    const limiter = createRateLimiter({ redis, prefix: prefix(), limit: 2, windowMs: 10_000 })
    for (let i = 0; i < 5; i++) expect((await limiter.peek('k')).remaining).toBe(2)
    await limiter.limit('k', { cost: 2 })
    const peeked = await limiter.peek('k')
    expect(peeked.allowed).toBe(false)
    expect(peeked.remaining).toBe(0)
    expect(peeked.retryAfterMs).toBeGreaterThan(0)
    expect((await limiter.peek('fresh', { cost: 3 })).reason).toBe('cost-exceeds-limit')
  })

  it('reset forgets every policy and any block', async () => {
    const limiter = createRateLimiter({
      redis,
      prefix: prefix(),
      policies: [
        { name: 'a', limit: 1, windowMs: 60_000 },
        { name: 'b', algorithm: 'sliding-log', limit: 1, windowMs: 60_000 },
      ],
    })
    await limiter.limit('k')
    await limiter.block('k', 60_000)
    expect((await limiter.limit('k')).reason).toBe('blocked')
    await limiter.reset('k')
    const result = await limiter.limit('k')
    expect(result.allowed).toBe(true)
    expect(result.remaining).toBe(0)
  })

  it('block rejects every cost until it ends, then the key admits again', async () => {
    const limiter = createRateLimiter({ redis, prefix: prefix(), limit: 10, windowMs: 1000 })
    await limiter.block('k', 300)
    const blocked = await limiter.limit('k')
    expect(blocked.allowed).toBe(false)
    expect(blocked.reason).toBe('blocked')
    expect(blocked.retryAfterMs).toBeGreaterThan(0)
    expect(blocked.retryAfterMs).toBeLessThanOrEqual(300)
    expect((await limiter.peek('k')).reason).toBe('blocked')
    await sleep(blocked.retryAfterMs)
    const after = await limiter.limit('k')
    expect(after.allowed).toBe(true)
    expect(after.remaining).toBe(9)
  })

  it('resetAt is on the server clock', async () => {
    const limiter = createRateLimiter({
      redis,
      prefix: prefix(),
      algorithm: 'fixed-window',
      limit: 1,
      windowMs: 60_000,
    })
    const [seconds, micros] = (await inspect.time()) as unknown as [string, string]
    const serverNow = Number(seconds) * 1000 + Number(micros) / 1000
    const result = await limiter.limit('k')
    expect(Math.abs(result.now - serverNow)).toBeLessThan(5000)
    expect(result.resetAt % 60_000).toBe(0)
    expect(result.resetAt).toBe(Math.floor(result.now) + result.resetMs)
  })

  describe.each(['gcra', 'sliding-window', 'fixed-window', 'sliding-log'] as const)('%s', (algorithm) => {
    it('every key expires when idle', async () => {
      const p = prefix()
      // A window long enough that the key cannot expire before it is inspected on a slow machine.
      const windowMs = 60_000
      const limiter = createRateLimiter({ redis, prefix: p, algorithm, limit: 3, windowMs })
      await limiter.limit('k')
      await limiter.limit('k', { cost: 2 })
      await limiter.limit('k')
      const keys: string[] = []
      for (const node of 'nodes' in inspect ? inspect.nodes('master') : [inspect]) {
        keys.push(...(await node.keys(`${p}:*`)))
      }
      expect(keys).toHaveLength(1)
      // An expiry of at most two windows: Redis drops the key once nothing is left to remember.
      const ttl = await inspect.pttl(keys[0]!)
      expect(ttl).toBeGreaterThan(0)
      expect(ttl).toBeLessThanOrEqual(2 * windowMs)
    })
  })

  describe.each(['gcra', 'sliding-window', 'fixed-window'] as const)('%s', (algorithm) => {
    it('holds at most 100 bytes after 10,000 requests', async () => {
      const p = prefix()
      const limiter = createRateLimiter({ redis, prefix: p, algorithm, limit: 100_000, windowMs: 60_000 })
      for (let batch = 0; batch < 20; batch++) {
        await Promise.all(Array.from({ length: 500 }, () => limiter.limit('user:42')))
      }
      const result = await limiter.peek('user:42')
      expect(result.remaining).toBeLessThan(100_000)
      const key = `${p}:{user:42}:${algorithm[0]}`
      const bytes = (await inspect.call('MEMORY', 'USAGE', key)) as number
      expect(bytes).toBeGreaterThan(0)
      expect(bytes).toBeLessThanOrEqual(100)
    })
  })

  it('a fixed-window limit is exact up to its largest accepted value, and a larger one is refused', async () => {
    const max = MAX_FIXED_WINDOW_LIMIT
    const limiter = createRateLimiter({
      redis,
      prefix: prefix(),
      algorithm: 'fixed-window',
      limit: max,
      // A day: the window is aligned to the clock, and must not roll during the 31 checks.
      windowMs: 86_400_000,
    })
    expect((await limiter.limit('k', { cost: max - 10 })).remaining).toBe(10)
    const admitted = []
    for (let i = 0; i < 30; i++) admitted.push((await limiter.limit('k')).allowed)
    expect(admitted.filter(Boolean)).toHaveLength(10)
    expect(() =>
      createRateLimiter({ redis, algorithm: 'fixed-window', limit: 10_000_000_000_000, windowMs: 1000 }),
    ).toThrow(/fixed-window limit is at most 8796093022207/)
  })

  it('the sliding log never holds more entries than the limit', async () => {
    const p = prefix()
    const limiter = createRateLimiter({
      redis,
      prefix: p,
      algorithm: 'sliding-log',
      limit: 50,
      windowMs: 60_000,
    })
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(Array.from({ length: 100 }, (_, i) => limiter.limit('k', { cost: 1 + (i % 3) })))
    }
    expect(await inspect.zcard(`${p}:{k}:l`)).toBeLessThanOrEqual(50)
    expect((await limiter.peek('k')).remaining).toBeGreaterThanOrEqual(0)
  })
})
