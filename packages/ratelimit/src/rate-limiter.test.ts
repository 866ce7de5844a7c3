import { createRedis, InvalidArgumentError } from '@x/redis-core'
import { countCommands, sleep, targets, useRedis } from '@x/testkit/vitest'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { createRateLimiter } from './rate-limiter.js'

describe.each(targets())('$name', (target) => {
  const redis = useRedis(target, createRedis)
  let n = 0
  const prefix = () => `${target.prefix}:rl${n++}`

  describe.each(['gcra', 'sliding-window', 'fixed-window', 'sliding-log'] as const)('%s', (algorithm) => {
    it('admits up to the limit, then rejects with a retry time', async () => {
      const limiter = createRateLimiter({ redis, prefix: prefix(), algorithm, limit: 5, windowMs: 10_000 })
      const results = []
      for (let i = 0; i < 7; i++) results.push(await limiter.limit('a'))
      expect(results.map((r) => r.allowed)).toEqual([true, true, true, true, true, false, false])
      expect(results.map((r) => r.remaining)).toEqual([4, 3, 2, 1, 0, 0, 0])
      const rejected = results[5]!
      expect(rejected.reason).toBe('limited')
      expect(rejected.retryAfterMs).toBeGreaterThan(0)
      expect(rejected.retryAfterMs).toBeLessThanOrEqual(20_000)
      expect(rejected.limit).toBe(5)
      expect(rejected.policies).toHaveLength(1)
      expect(results[0]!.allowed && results[0]!.reason).toBe(undefined)
    })

    it('counts checks in stats() and emits limited for each rejection', async () => {
      const limiter = createRateLimiter({
        redis,
        prefix: prefix(),
        algorithm,
        limit: 2,
        windowMs: 10_000,
        blockedCache: true,
      })
      const limited: string[] = []
      const off = limiter.on('limited', ({ key, result }) => limited.push(`${key}:${result.reason}`))
      for (let i = 0; i < 4; i++) await limiter.limit('s')
      off()
      await limiter.limit('s')
      expect(limited).toEqual(['s:limited', 's:cached'])
      expect(limiter.stats()).toEqual({
        checks: 5,
        admitted: 2,
        rejected: 3,
        cacheHits: 2,
        failOpenAnswers: 0,
        failClosedAnswers: 0,
        fallbackAnswers: 0,
        redisErrors: 0,
        timeouts: 0,
        blockedKeys: 1,
      })
    })

    it('a rejected request consumes nothing', async () => {
      const limiter = createRateLimiter({ redis, prefix: prefix(), algorithm, limit: 3, windowMs: 10_000 })
      await limiter.limit('k', { cost: 2 })
      const before = await limiter.peek('k')
      for (let i = 0; i < 5; i++) expect((await limiter.limit('k', { cost: 2 })).allowed).toBe(false)
      const after = await limiter.peek('k')
      expect(after.remaining).toBe(before.remaining)
      expect((await limiter.limit('k', { cost: 1 })).allowed).toBe(true)
    })

    it('a cost above the capacity is rejected without changing state', async () => {
      const limiter = createRateLimiter({ redis, prefix: prefix(), algorithm, limit: 3, windowMs: 10_000 })
      const result = await limiter.limit('k', { cost: 4 })
      expect(result.allowed).toBe(false)
      expect(result.reason).toBe('cost-exceeds-limit')
      expect(result.retryAfterMs).toBe(Number.POSITIVE_INFINITY)
      expect(result.remaining).toBe(3)
      expect((await limiter.limit('k', { cost: 3 })).allowed).toBe(true)
    })

    it('refund gives units back but never above capacity', async () => {
      const limiter = createRateLimiter({ redis, prefix: prefix(), algorithm, limit: 4, windowMs: 10_000 })
      await limiter.limit('k', { cost: 3 })
      expect((await limiter.refund('k', 2)).remaining).toBe(3)
      expect((await limiter.refund('k', 10)).remaining).toBe(4)
      expect((await limiter.peek('k')).remaining).toBe(4)
      expect((await limiter.limit('k', { cost: 4 })).allowed).toBe(true)
      expect((await limiter.limit('k')).allowed).toBe(false)
    })

    it('waiting exactly retryAfterMs is enough', async () => {
      const limiter = createRateLimiter({ redis, prefix: prefix(), algorithm, limit: 2, windowMs: 300 })
      for (let round = 0; round < 3; round++) {
        let result = await limiter.limit('k')
        while (result.allowed) result = await limiter.limit('k')
        expect(result.retryAfterMs).toBeGreaterThan(0)
        await sleep(result.retryAfterMs)
        expect((await limiter.limit('k')).allowed).toBe(true)
      }
    })

    it('one EVALSHA per check', async () => {
      const limiter = createRateLimiter({ redis, prefix: prefix(), algorithm, limit: 5, windowMs: 1000 })
      // Each master loads a script on its first call: warm up on the same key. peek() runs the
      // generic script; limit() of a GCRA limiter its own generated one.
      await limiter.peek('k')
      await limiter.limit('k')
      const counter = countCommands(redis)
      try {
        await limiter.limit('k')
        await limiter.limit('k', { cost: 3 })
        expect(counter.names()).toEqual(['evalsha', 'evalsha'])
      } finally {
        counter.restore()
      }
    })
  })

  it('validates input without calling Redis', async () => {
    const limiter = createRateLimiter({ redis, prefix: prefix(), limit: 5, windowMs: 1000 })
    const counter = countCommands(redis)
    try {
      for (const bad of ['', 'a{b}', 'x\n', 'a'.repeat(600)]) {
        await expect(limiter.limit(bad)).rejects.toSatisfy(InvalidArgumentError.isInstance)
      }
      for (const cost of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
        await expect(limiter.limit('k', { cost })).rejects.toSatisfy(InvalidArgumentError.isInstance)
        await expect(limiter.refund('k', cost)).rejects.toSatisfy(InvalidArgumentError.isInstance)
      }
      await expect(limiter.block('k', 0)).rejects.toSatisfy(InvalidArgumentError.isInstance)
      await expect(limiter.block('k', Number.NaN)).rejects.toSatisfy(InvalidArgumentError.isInstance)
      expect(counter.count()).toBe(0)
    } finally {
      counter.restore()
    }
  })
})

describe('options', () => {
  // Never connected: option errors are thrown before anything reaches Redis.
  const redis = new Redis({ port: 1, lazyConnect: true })
  afterAll(() => redis.disconnect())
  const invalid = (options: Record<string, unknown>) => () =>
    createRateLimiter({ redis, ...options } as Parameters<typeof createRateLimiter>[0])

  it.each([
    ['no limit', { windowMs: 1000 }],
    ['zero limit', { limit: 0, windowMs: 1000 }],
    ['NaN window', { limit: 1, windowMs: Number.NaN }],
    ['negative window', { limit: 1, windowMs: -5 }],
    ['fractional window', { limit: 1, windowMs: 1.5 }],
    ['unknown algorithm', { algorithm: 'leaky', limit: 1, windowMs: 1000 }],
    ['burst on a window algorithm', { algorithm: 'fixed-window', limit: 1, windowMs: 1000, burst: 3 }],
    ['zero burst', { limit: 1, windowMs: 1000, burst: 0 }],
    ['a gcra rate above one per microsecond', { limit: 2001, windowMs: 2 }],
    ['a sliding-window limit above 2^24', { algorithm: 'sliding-window', limit: 2 ** 24, windowMs: 1000 }],
    ['empty policies', { policies: [] }],
    [
      'unnamed policies',
      {
        policies: [
          { limit: 1, windowMs: 1000 },
          { limit: 2, windowMs: 2000 },
        ],
      },
    ],
    [
      'duplicate names',
      {
        policies: [
          { name: 'a', limit: 1, windowMs: 1000 },
          { name: 'a', limit: 2, windowMs: 2000 },
        ],
      },
    ],
    ['a name with a quote', { policies: [{ name: 'a"b', limit: 1, windowMs: 1000 }] }],
    ['policies and limit', { policies: [{ limit: 1, windowMs: 1000 }], limit: 1, windowMs: 1000 }],
    ['a zero timeout', { limit: 1, windowMs: 1000, redisTimeoutMs: 0 }],
    ['an unknown failure mode', { limit: 1, windowMs: 1000, failureMode: 'ignore' }],
    ['a renamed option', { limit: 1, windowMs: 1000, timeoutMs: 500 }],
    ['a prefix with braces', { prefix: 'a{b}', limit: 1, windowMs: 1000 }],
    ['no client', { redis: undefined, limit: 1, windowMs: 1000 }],
  ])('%s → InvalidArgumentError', (_, options) => {
    expect(invalid(options)).toThrow(InvalidArgumentError)
  })

  it('token-bucket is an alias of gcra', () => {
    const limiter = createRateLimiter({ redis, algorithm: 'token-bucket', limit: 5, windowMs: 1000 })
    expect(limiter.policies[0]).toEqual({
      name: 'default',
      algorithm: 'gcra',
      limit: 5,
      windowMs: 1000,
      capacity: 5,
    })
  })
})
