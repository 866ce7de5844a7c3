import { createRedis, type RedisClient, TimeoutError } from '@x/redis-core'
import { type RedisServer, startRedis } from '@x/testkit'
import { eventually } from '@x/testkit/vitest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCache } from './index.js'

// Fault tests run on a private server: pausing the shared ones would break other files.
describe('Redis down or paused', () => {
  let server: RedisServer
  let redis: RedisClient

  beforeAll(async () => {
    server = await startRedis()
    redis = createRedis({ url: server.url, commandTimeoutMs: 10_000 })
  })
  afterAll(async () => {
    server.resume()
    redis.disconnect()
    await server.stop()
  })

  it('paused: getOrSet returns the fetcher value after the cache timeout and reports it', async () => {
    const errors: string[] = []
    const cache = createCache({
      redis,
      prefix: 'paused',
      redisTimeoutMs: 200,
    })
    cache.on('error', (event) => errors.push(event.operation))
    // Setup with a generous timeout: the first call on a fresh connection and server is slow under load.
    await createCache({ redis, prefix: 'paused', redisTimeoutMs: 10_000 }).set('warm', 1)
    server.pause()
    try {
      expect(await cache.getOrSet('k', async () => 'from source')).toBe('from source')
      expect(errors, 'the bypass is reported').toContain('getOrSet')
      // Plain reads are misses, not errors, while Redis does not answer.
      expect(await cache.get('warm')).toBeUndefined()
      await expect(cache.set('x', 1)).rejects.toMatchObject({ code: 'E_TIMEOUT' })
    } finally {
      server.resume()
    }
    expect(cache.stats().redisErrors).toBeGreaterThanOrEqual(2)
    await eventually(async () => (await cache.get('warm')) === 1, 10_000)
  })

  it("deleteByPrefix gives up after the cache's Redis timeout, not the client's", async () => {
    const cache = createCache({ redis, prefix: 'paused-prefix', redisTimeoutMs: 100 })
    await createCache({ redis, prefix: 'paused-prefix', redisTimeoutMs: 10_000 }).set('a:1', 1)
    // The client waits 10 s and core's SCAN default is 2 s; the server answers again after 1.5 s.
    // Only a call bounded by the cache's 100 ms rejects: any longer bound sees the answer.
    server.pause(1500)
    try {
      await expect(cache.deleteByPrefix('a:')).rejects.toSatisfy(TimeoutError.isInstance)
    } finally {
      server.resume()
    }
    await eventually(async () => (await cache.deleteByPrefix('a:').catch(() => -1)) >= 0, 10_000)
  })

  it('down: getOrSet bypasses the cache; getMany and getOrSetMany do too', async () => {
    const cache = createCache({ redis, prefix: 'down', redisTimeoutMs: 300 })
    await server.kill()
    try {
      expect(await cache.getOrSet('k', async () => 42)).toBe(42)
      expect(await cache.getMany(['a', 'b'])).toEqual([undefined, undefined])
      expect(
        await cache.getOrSetMany(['a', 'b'], async (keys) => keys.map((key) => key.toUpperCase())),
      ).toEqual(['A', 'B'])
      await expect(cache.delete('k')).rejects.toMatchObject({
        code: expect.stringMatching(/E_REDIS_UNAVAILABLE|E_TIMEOUT/),
      })
    } finally {
      await server.restart()
    }
    await eventually(async () => {
      await cache.set('k', 1).catch(() => {})
      return (await cache.get('k')) === 1
    }, 15_000)
  })

  it('background work against a paused Redis leaves no unhandled rejection', async () => {
    const cache = createCache({
      redis,
      prefix: 'paused-background',
      ttlMs: 50,
      graceMs: 60_000,
      redisTimeoutMs: 150,
      distributedSingleFlight: { leaseMs: 500, pollIntervalMs: 10 },
      l1: {},
    })
    cache.on('error', () => {})
    await cache.ready()
    await createCache({ redis, prefix: 'paused-background', redisTimeoutMs: 10_000 }).set('k', 'old', {
      ttlMs: 50,
      graceMs: 60_000,
    })
    await eventually(
      async () => (await cache.get('k', { allowStale: true })) === 'old' && !(await cache.has('k')),
    )
    expect(await cache.getOrSet('k', async () => 'new')).toBeDefined()
    server.pause()
    try {
      // Stale read, background refresh, lease, fill and publish all meet a Redis that does not answer.
      const results = await Promise.allSettled([
        cache.getOrSet('k', async () => 'fresh'),
        cache.getOrSet('other', async () => {
          throw new Error('source down too')
        }),
        cache.getMany(['a', 'b']),
      ])
      expect(results[0]).toMatchObject({ status: 'fulfilled' })
      expect(results[1]).toMatchObject({ status: 'rejected' })
      // The GET of 'other' and the MGET gave up; background work (refresh, lease, fill, publish)
      // settles on its own. An unhandled rejection from any of it fails this test (the test kit's
      // trap).
      await eventually(() => cache.stats().timeouts >= 2, 10_000)
    } finally {
      server.resume()
    }
    await cache.close()
  })
})
