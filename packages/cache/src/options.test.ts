import { createRedis, InvalidArgumentError, jsonCodec, type RedisClient } from '@x/redis-core'
import { Cluster, Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { checkGetOrSetOptions, resolveOptions } from './options.js'

// Nothing here connects: the clients are lazy and only their options are read.
describe('resolveOptions', () => {
  const clients: RedisClient[] = []
  const lazy = <T extends RedisClient>(client: T): T => {
    clients.push(client)
    return client
  }
  afterAll(() => {
    for (const client of clients) client.disconnect()
  })

  it('applies the documented defaults', () => {
    const redis = lazy(createRedis({ url: 'redis://127.0.0.1:1', redisOptions: { lazyConnect: true } }))
    expect(resolveOptions({ redis, prefix: 'p' })).toEqual({
      redis,
      prefix: 'p',
      codec: jsonCodec,
      ttl: 60_000,
      grace: 0,
      staleWhileRevalidate: true,
      jitter: 0,
      soft: undefined,
      hard: undefined,
      lease: undefined,
      tombstoneTtl: 3_600_000,
      l1: undefined,
      publish: false,
      // createRedis sets commandTimeout 2000: the cache's timeout follows it, and GETs need no deadline of ours.
      redisTimeout: 2000,
      clientTimesOut: true,
      onError: undefined,
    })
  })

  it("takes the Redis timeout from the client's commandTimeout (Redis and Cluster), else 1000 ms", () => {
    const plain = lazy(new Redis({ lazyConnect: true }))
    expect(resolveOptions({ redis: plain, prefix: 'p' })).toMatchObject({
      redisTimeout: 1000,
      clientTimesOut: false,
    })
    const cluster = lazy(
      new Cluster([{ host: '127.0.0.1', port: 1 }], {
        lazyConnect: true,
        redisOptions: { commandTimeout: 300 },
      }),
    )
    expect(resolveOptions({ redis: cluster, prefix: 'p' })).toMatchObject({
      redisTimeout: 300,
      clientTimesOut: true,
    })
    // A shorter timeout of ours than the client's: our deadline must bound the GET.
    expect(resolveOptions({ redis: cluster, prefix: 'p', timeouts: { redis: 100 } })).toMatchObject({
      redisTimeout: 100,
      clientTimesOut: false,
    })
  })

  it('fills in lease and L1 defaults; L1 turns publishing on unless told otherwise', () => {
    const redis = lazy(new Redis({ lazyConnect: true }))
    expect(resolveOptions({ redis, prefix: 'p', distributedSingleFlight: true }).lease).toEqual({
      ttl: 5000,
      pollInterval: 25,
    })
    expect(
      resolveOptions({ redis, prefix: 'p', distributedSingleFlight: { pollInterval: 10 } }).lease,
    ).toEqual({ ttl: 5000, pollInterval: 10 })
    expect(resolveOptions({ redis, prefix: 'p', l1: {} })).toMatchObject({
      l1: { maxEntries: 1000, ttl: 60_000 },
      publish: true,
    })
    expect(resolveOptions({ redis, prefix: 'p', l1: {}, publishInvalidations: false }).publish).toBe(false)
    expect(() => resolveOptions({ redis, prefix: 'p', l1: { maxEntries: 0 } })).toThrow(/l1.maxEntries/)
    expect(() => resolveOptions({ redis, prefix: 'p', distributedSingleFlight: { leaseTtl: 1.5 } })).toThrow(
      /leaseTtl/,
    )
    expect(() => checkGetOrSetOptions({ timeout: { soft: -1 } })).toThrow(InvalidArgumentError)
  })
})
