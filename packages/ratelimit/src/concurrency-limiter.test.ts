import { createRedis, InvalidArgumentError } from '@x/redis-core'
import { countCommands, eventually, sleep, targets, useRedis } from '@x/testkit/vitest'
import { describe, expect, it } from 'vitest'
import { createConcurrencyLimiter } from './concurrency-limiter.js'

describe.each(targets())('$name', (target) => {
  const redis = useRedis(target, createRedis)
  const inspect = useRedis(target)
  let n = 0
  const prefix = () => `${target.prefix}:c${n++}`

  it('hands out at most limit leases; a release frees a slot', async () => {
    const limiter = createConcurrencyLimiter({ redis, prefix: prefix(), limit: 2, leaseMs: 60_000 })
    const first = await limiter.acquire('job')
    const second = await limiter.acquire('job')
    expect(first.acquired && second.acquired).toBe(true)
    expect(second.active).toBe(2)
    const third = await limiter.acquire('job')
    expect(third.acquired).toBe(false)
    expect(third.reason).toBe('limited')
    expect(third.retryAfterMs).toBeGreaterThan(50_000)
    expect(await limiter.active('job')).toBe(2)
    expect(await first.lease!.release()).toBe(true)
    expect(await first.lease!.release()).toBe(false)
    const fourth = await limiter.acquire('job')
    expect(fourth.acquired).toBe(true)
    expect(await limiter.release('job', fourth.lease!.id)).toBe(true)
    expect(await limiter.release('job', 'unknown')).toBe(false)
  })

  it('an expired lease frees its slot and the key expires when idle', async () => {
    const p = prefix()
    const limiter = createConcurrencyLimiter({ redis, prefix: p, limit: 1, leaseMs: 500 })
    const held = await limiter.acquire('job')
    expect(held.acquired).toBe(true)
    expect((await limiter.acquire('job')).acquired).toBe(false)
    await sleep(600)
    expect(await limiter.active('job')).toBe(0)
    const again = await limiter.acquire('job')
    expect(again.acquired).toBe(true)
    expect(await held.lease!.extend()).toBe(false)
    await eventually(async () => (await inspect.exists(`${p}:{job}:c`)) === 0, 5000)
  })

  it('extend keeps a lease alive past its first expiry', async () => {
    const limiter = createConcurrencyLimiter({ redis, prefix: prefix(), limit: 1, leaseMs: 500 })
    const held = await limiter.acquire('job')
    const before = held.lease!.expiresAt
    await sleep(100)
    expect(await held.lease!.extend(3000)).toBe(true)
    expect(held.lease!.expiresAt).toBeGreaterThan(before)
    await sleep(600)
    expect((await limiter.acquire('job')).acquired).toBe(false)
    await held.lease![Symbol.asyncDispose]()
    expect((await limiter.acquire('job')).acquired).toBe(true)
  })

  it('one EVALSHA per acquire', async () => {
    const limiter = createConcurrencyLimiter({ redis, prefix: prefix(), limit: 3 })
    // On Cluster each master loads the script on its first call: warm up on the same key.
    await (await limiter.acquire('job')).lease?.release()
    const counter = countCommands(redis)
    try {
      await limiter.acquire('job')
      expect(counter.names()).toEqual(['evalsha'])
    } finally {
      counter.restore()
    }
  })

  it('never more holders than the limit under sustained contention', async () => {
    const clients = Array.from({ length: 4 }, () => createRedis(target.connection))
    try {
      const limiters = clients.map((client) =>
        createConcurrencyLimiter({ redis: client, prefix: `${target.prefix}:cc`, limit: 3, leaseMs: 10_000 }),
      )
      let holding = 0
      let most = 0
      let acquired = 0
      const end = Date.now() + 1500
      await Promise.all(
        limiters.flatMap((limiter) =>
          Array.from({ length: 8 }, async () => {
            while (Date.now() < end) {
              const result = await limiter.acquire('shared')
              if (!result.acquired) {
                await sleep(1)
                continue
              }
              acquired++
              holding++
              most = Math.max(most, holding)
              await sleep(2)
              holding--
              await result.lease.release()
            }
          }),
        ),
      )
      expect(most).toBeLessThanOrEqual(3)
      expect(most).toBe(3)
      expect(acquired).toBeGreaterThan(20)
    } finally {
      for (const client of clients) client.disconnect()
    }
  })

  it('bad input throws InvalidArgumentError without calling Redis', async () => {
    expect(() => createConcurrencyLimiter({ redis, limit: 0 })).toThrow(InvalidArgumentError)
    expect(() => createConcurrencyLimiter({ redis, limit: 1, leaseMs: -1 })).toThrow(InvalidArgumentError)
    const limiter = createConcurrencyLimiter({ redis, prefix: prefix(), limit: 1 })
    const counter = countCommands(redis)
    try {
      await expect(limiter.acquire('')).rejects.toSatisfy(InvalidArgumentError.isInstance)
      await expect(limiter.acquire('k', { leaseMs: Number.NaN })).rejects.toSatisfy(
        InvalidArgumentError.isInstance,
      )
      await expect(limiter.release('k', '')).rejects.toSatisfy(InvalidArgumentError.isInstance)
      expect(counter.count()).toBe(0)
    } finally {
      counter.restore()
    }
  })
})
