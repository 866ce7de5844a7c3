import { createRedis } from '@x/redis-core'
import { countCommands, eventually, sleep, targets, uniqueName, useRedis } from '@x/testkit/vitest'
import { describe, expect, it, vi } from 'vitest'
import { loadScripts } from '../test/load-scripts.js'
import {
  createCache,
  DecodeError,
  EncodeError,
  FetchTimeoutError,
  InvalidArgumentError,
  TimeoutError,
} from './index.js'

describe.each(targets())('$name', (target) => {
  const redis = useRedis(target, createRedis)
  const fresh = () => `${target.prefix}:${uniqueName('c')}`

  it.each([0, '', false, null])('caches %j as a real value', async (value) => {
    const cache = createCache({ redis, prefix: fresh() })
    let calls = 0
    const fetcher = async () => {
      calls++
      return value
    }
    expect(await cache.getOrSet('k', fetcher)).toBe(value)
    expect(await cache.getOrSet('k', fetcher)).toBe(value)
    expect(calls).toBe(1)
    expect(await cache.get('k')).toBe(value)
    expect(await cache.has('k')).toBe(true)
  })

  it('refuses undefined from a fetcher and writes nothing; ctx.skip() returns it uncached', async () => {
    const cache = createCache({ redis, prefix: fresh() })
    await expect(cache.getOrSet('k', async () => undefined)).rejects.toSatisfy(EncodeError.isInstance)
    expect(await target.client().exists(`${cache.prefix}:#v:k`)).toBe(0)
    const skipped = await cache.getOrSet('k', async (context) => {
      context.skip()
      return undefined
    })
    expect(skipped).toBeUndefined()
    expect(await target.client().exists(`${cache.prefix}:#v:k`)).toBe(0)
  })

  it('refuses BigInt and cycles with EncodeError and writes nothing', async () => {
    const cache = createCache({ redis, prefix: fresh() })
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    await expect(cache.getOrSet('a', async () => ({ n: 1n }))).rejects.toSatisfy(EncodeError.isInstance)
    await expect(cache.set('b', cyclic)).rejects.toSatisfy(EncodeError.isInstance)
    await expect(cache.set('c', undefined)).rejects.toSatisfy(EncodeError.isInstance)
    const inspect = target.client()
    expect(await inspect.exists(`${cache.prefix}:#v:a`)).toBe(0)
    expect(await inspect.exists(`${cache.prefix}:#v:b`)).toBe(0)
    expect(await inspect.exists(`${cache.prefix}:#v:c`)).toBe(0)
  })

  it('rejects bad keys and options before any Redis call', async () => {
    const cache = createCache({ redis, prefix: fresh() })
    const counted = countCommands(redis)
    try {
      await expect(cache.get('')).rejects.toSatisfy(InvalidArgumentError.isInstance)
      await expect(cache.get('a\nb')).rejects.toSatisfy(InvalidArgumentError.isInstance)
      await expect(cache.set('x'.repeat(2000), 1)).rejects.toSatisfy(InvalidArgumentError.isInstance)
      await expect(cache.set('k', 1, { ttlMs: -1 })).rejects.toSatisfy(InvalidArgumentError.isInstance)
      await expect(cache.getOrSet('k', async () => 1, { ttlMs: Number.NaN })).rejects.toSatisfy(
        InvalidArgumentError.isInstance,
      )
      await expect(cache.invalidateTags([''])).rejects.toSatisfy(InvalidArgumentError.isInstance)
      // Every async API rejects, never throws synchronously.
      for (const bad of ['', 'x'.repeat(2000)]) {
        let pending: Promise<unknown> | undefined
        expect(() => {
          pending = cache.getOrSet(bad, async () => 1)
        }).not.toThrow()
        await expect(pending).rejects.toSatisfy(InvalidArgumentError.isInstance)
      }
      expect(counted.count()).toBe(0)
    } finally {
      counted.restore()
    }
    expect(() => createCache({ redis, prefix: 'a{b}' })).toThrow(/prefix/)
    expect(() => createCache({ redis, prefix: 'p', jitter: 1 })).toThrow(/jitter/)
    expect(() => cache.namespace('#v')).toThrow(/namespace/)
  })

  it('rejects invalid tags and options for a key that is in L1, as for one that is not', async () => {
    const cache = createCache({ redis, prefix: fresh(), l1: {} })
    await cache.getOrSet('k', async () => 1)
    expect(await cache.getOrSet('k', async () => 2)).toBe(1)
    expect(cache.stats().l1Hits).toBe(1)
    for (const key of ['k', 'not-cached']) {
      await expect(
        cache.getOrSet(key, async () => 2, { tags: [''] }),
        key,
      ).rejects.toSatisfy(InvalidArgumentError.isInstance)
      await expect(
        cache.getOrSet(key, async () => 2, { tags: 'a' as never }),
        key,
      ).rejects.toSatisfy(InvalidArgumentError.isInstance)
      await expect(cache.getOrSet(key, 'no' as never), key).rejects.toSatisfy(InvalidArgumentError.isInstance)
    }
    await cache.close()
  })

  it('get / set / has / delete round-trip', async () => {
    const cache = createCache({ redis, prefix: fresh() })
    expect(await cache.get('k')).toBeUndefined()
    expect(await cache.has('k')).toBe(false)
    await cache.set('k', { name: 'ada', tags: [1, 2] })
    expect(await cache.get('k')).toEqual({ name: 'ada', tags: [1, 2] })
    expect(await cache.delete('k')).toBe(true)
    expect(await cache.get('k')).toBeUndefined()
    expect(await cache.delete('k')).toBe(false)
  })

  it('a hit is one command (GET) and a miss is two (GET + fill script)', async () => {
    const cache = createCache({ redis, prefix: fresh() })
    await loadScripts(redis)
    const counted = countCommands(redis)
    try {
      await cache.getOrSet('k', async () => 'v')
      expect(counted.names()).toEqual(['get', 'evalsha'])
      counted.reset()
      expect(await cache.getOrSet('k', async () => 'other')).toBe('v')
      expect(counted.names()).toEqual(['get'])
    } finally {
      counted.restore()
    }
  })

  it('1,000 concurrent getOrSet calls on a cold key run the fetcher once', async () => {
    const cache = createCache({ redis, prefix: fresh() })
    let calls = 0
    const results = await Promise.all(
      Array.from({ length: 1000 }, () =>
        cache.getOrSet('cold', async () => {
          calls++
          await sleep(50)
          return { n: 42 }
        }),
      ),
    )
    expect(calls).toBe(1)
    expect(results.every((result) => result.n === 42)).toBe(true)
  })

  it('single-flight holds under sustained contention over many keys', async () => {
    const cache = createCache({ redis, prefix: fresh() })
    const calls = new Map<string, number>()
    for (let round = 0; round < 5; round++) {
      await Promise.all(
        Array.from({ length: 200 }, (_, index) => {
          const key = `k${index % 10}-${round}`
          return cache.getOrSet(key, async () => {
            calls.set(key, (calls.get(key) ?? 0) + 1)
            await sleep(5)
            return key
          })
        }),
      )
    }
    expect(calls.size).toBe(50)
    expect([...calls.values()].every((count) => count === 1)).toBe(true)
  })

  it('expires after ttl', async () => {
    const cache = createCache({ redis, prefix: fresh(), ttlMs: 1000 })
    let calls = 0
    const fetcher = async () => ++calls
    expect(await cache.getOrSet('k', fetcher)).toBe(1)
    expect(await cache.getOrSet('k', fetcher)).toBe(1)
    await eventually(async () => (await cache.get('k')) === undefined, 15_000)
    expect(await cache.getOrSet('k', fetcher)).toBe(2)
  })

  it('freshness follows the Redis clock, not a local wall clock that stepped back', async () => {
    const cache = createCache({ redis, prefix: fresh(), ttlMs: 300, graceMs: 60_000 })
    await cache.set('k', 'v')
    const wall = Date.now
    const stepped = vi.spyOn(Date, 'now').mockImplementation(() => wall() - 60_000)
    try {
      await eventually(async () => (await cache.get('k')) === undefined, 10_000)
      expect(await cache.get('k', { allowStale: true })).toBe('v')
    } finally {
      stepped.mockRestore()
    }
  })

  it('ctx.setTtl changes the ttl of the result', async () => {
    const cache = createCache({ redis, prefix: fresh(), ttlMs: 60_000 })
    await cache.getOrSet('k', async (context) => {
      context.setTtlMs(5_000)
      return 1
    })
    const pttl = await target.client().pttl(`${cache.prefix}:#v:k`)
    expect(pttl).toBeGreaterThan(0)
    expect(pttl).toBeLessThanOrEqual(5_000)
  })

  it('jitter shortens ttls by up to the given fraction', async () => {
    const cache = createCache({ redis, prefix: fresh(), ttlMs: 100_000, jitter: 0.5 })
    await cache.setMany(Array.from({ length: 30 }, (_, index) => ({ key: `k${index}`, value: index })))
    const inspect = target.client()
    const ttls = await Promise.all(
      Array.from({ length: 30 }, (_, index) => inspect.pttl(`${cache.prefix}:#v:k${index}`)),
    )
    expect(ttls.every((ttl) => ttl > 45_000 && ttl <= 100_000)).toBe(true)
    expect(new Set(ttls.map((ttl) => Math.round(ttl / 1000))).size).toBeGreaterThan(5)
  })

  it('corrupt and foreign entries read as misses, are reported, and are overwritten by the next set', async () => {
    const corrupt: unknown[] = []
    const cache = createCache({ redis, prefix: fresh() })
    cache.on('corrupt', (event) => corrupt.push(event.error))
    const inspect = target.client()
    await inspect.set(`${cache.prefix}:#v:a`, 'not ours')
    await inspect.set(`${cache.prefix}:#v:b`, 'c1|5|garbage')
    await inspect.set(`${cache.prefix}:#v:c`, 'c1|5|9999999999999|9999999999999|0|s{not json')
    await inspect.hset(`${cache.prefix}:#v:d`, 'f', 'v')
    for (const key of ['a', 'b', 'c', 'd']) expect(await cache.get(key)).toBeUndefined()
    expect(corrupt.length).toBe(4)
    expect(corrupt.every((error) => DecodeError.isInstance(error))).toBe(true)
    expect(cache.stats().corruptEntries).toBe(4)
    for (const key of ['a', 'b', 'c', 'd'])
      expect(await cache.getOrSet(key, async () => `fixed-${key}`)).toBe(`fixed-${key}`)
    for (const key of ['a', 'b', 'c', 'd']) expect(await cache.get(key)).toBe(`fixed-${key}`)
  })

  it('namespaces are separate and share stats', async () => {
    const cache = createCache({ redis, prefix: fresh() })
    const users = cache.namespace('users')
    await users.set('1', 'ada')
    await cache.set('1', 'root')
    expect(await users.get('1')).toBe('ada')
    expect(await cache.get('1')).toBe('root')
    expect(users.prefix).toBe(`${cache.prefix}:users`)
    expect(cache.stats().hits).toBe(2)
  })

  it('counts hits and misses and emits events', async () => {
    const seen: string[] = []
    const cache = createCache({ redis, prefix: fresh() })
    cache.on('hit', () => seen.push('hit'))
    cache.on('miss', () => seen.push('miss'))
    await cache.getOrSet('k', async () => 1)
    await cache.getOrSet('k', async () => 1)
    expect(seen).toEqual(['miss', 'hit'])
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, fetches: 1 })
  })

  it('the fetcher error propagates when nothing is cached', async () => {
    const cache = createCache({ redis, prefix: fresh() })
    const errors: unknown[] = []
    cache.on('fetchError', (event) => errors.push(event.error))
    await expect(
      cache.getOrSet('k', async () => {
        throw new Error('db down')
      }),
    ).rejects.toThrow('db down')
    expect(errors).toHaveLength(1)
    expect(await cache.get('k')).toBeUndefined()
  })

  it('hard timeout without a stale value rejects with FetchTimeoutError and aborts the signal', async () => {
    const cache = createCache({ redis, prefix: fresh() })
    let reason: unknown
    // The fetcher only finishes when aborted: only the hard timeout can end it.
    const error = await cache
      .getOrSet(
        'k',
        (context) =>
          new Promise<number>((resolve) => {
            context.signal.addEventListener('abort', () => {
              reason = context.signal.reason
              resolve(1)
            })
          }),
        { hardTimeoutMs: 50 },
      )
      .catch((caught: unknown) => caught)
    expect(FetchTimeoutError.isInstance(error)).toBe(true)
    expect(error).toMatchObject({ code: 'E_CACHE_FETCH_TIMEOUT', key: 'k', timeoutMs: 50 })
    expect(TimeoutError.isInstance(error), 'not a Redis timeout').toBe(false)
    expect(reason).toBe(error)
    expect(cache.stats().fetchTimeouts).toBe(1)
  })
})
