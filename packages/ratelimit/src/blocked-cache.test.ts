import { createRedis } from '@x/redis-core'
import { countCommands, sleep, targets, useRedis } from '@x/testkit/vitest'
import { describe, expect, it } from 'vitest'
import { createRateLimiter } from './rate-limiter.js'

describe.each(targets())('$name', (target) => {
  const redis = useRedis(target, createRedis)
  let n = 0
  const prefix = () => `${target.prefix}:b${n++}`

  it('answers a limited key from memory until its retry time, with no Redis command', async () => {
    const limiter = createRateLimiter({
      redis,
      prefix: prefix(),
      limit: 2,
      windowMs: 2000,
      blockedCache: true,
    })
    await limiter.limit('k', { cost: 2 })
    const first = await limiter.limit('k')
    expect(first.reason).toBe('limited')
    const counter = countCommands(redis)
    try {
      for (let i = 0; i < 50; i++) {
        const cached = await limiter.limit('k')
        expect(cached.allowed).toBe(false)
        expect(cached.reason).toBe('cached')
        expect(cached.retryAfterMs).toBeGreaterThan(0)
        expect(cached.retryAfterMs).toBeLessThanOrEqual(first.retryAfterMs)
      }
      expect(counter.count()).toBe(0)
      await sleep(first.retryAfterMs)
      expect((await limiter.limit('k')).allowed).toBe(true)
      expect(counter.names()).toEqual(['evalsha'])
    } finally {
      counter.restore()
    }
  })

  it('a smaller cost than the cached rejection still asks Redis', async () => {
    const limiter = createRateLimiter({
      redis,
      prefix: prefix(),
      // A sliding log: a fixed window is aligned to the clock and could roll between two checks.
      algorithm: 'sliding-log',
      limit: 5,
      windowMs: 60_000,
      blockedCache: true,
    })
    await limiter.limit('k', { cost: 3 })
    expect((await limiter.limit('k', { cost: 3 })).reason).toBe('limited')
    expect((await limiter.limit('k', { cost: 4 })).reason).toBe('cached')
    const admitted = await limiter.limit('k', { cost: 2 })
    expect(admitted.allowed).toBe(true)
    expect(admitted.remaining).toBe(0)
  })

  it('a block is cached for every cost; reset forgets it', async () => {
    const limiter = createRateLimiter({
      redis,
      prefix: prefix(),
      limit: 5,
      windowMs: 1000,
      blockedCache: true,
    })
    await limiter.block('k', 60_000)
    expect((await limiter.limit('k', { cost: 3 })).reason).toBe('blocked')
    const counter = countCommands(redis)
    try {
      expect((await limiter.limit('k')).reason).toBe('cached')
      expect(counter.count()).toBe(0)
    } finally {
      counter.restore()
    }
    await limiter.reset('k')
    expect((await limiter.limit('k')).allowed).toBe(true)
  })

  it('holds at most maxKeys keys', async () => {
    const limiter = createRateLimiter({
      redis,
      prefix: prefix(),
      limit: 1,
      windowMs: 60_000,
      blockedCache: { maxKeys: 2 },
    })
    for (const key of ['a', 'b', 'c']) {
      await limiter.limit(key)
      expect((await limiter.limit(key)).reason).toBe('limited')
    }
    const counter = countCommands(redis)
    try {
      expect((await limiter.limit('c')).reason).toBe('cached')
      expect((await limiter.limit('b')).reason).toBe('cached')
      expect(counter.count()).toBe(0)
      // 'a' was the oldest entry and was dropped, so it goes to Redis again.
      expect((await limiter.limit('a')).reason).toBe('limited')
      expect(counter.count()).toBe(1)
    } finally {
      counter.restore()
    }
  })
})
