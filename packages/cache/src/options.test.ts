import { createRedis, InvalidArgumentError, jsonCodec, type RedisClient } from '@x/redis-core'
import { Redis } from 'ioredis'
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

  it('applies the documented defaults, whatever the client commandTimeout', () => {
    const redis = lazy(createRedis({ url: 'redis://127.0.0.1:1', redisOptions: { lazyConnect: true } }))
    expect(resolveOptions({ redis, prefix: 'p' })).toEqual({
      redis,
      prefix: 'p',
      codec: jsonCodec,
      ttlMs: 60_000,
      graceMs: 0,
      staleWhileRevalidate: true,
      jitter: 0,
      softTimeoutMs: undefined,
      hardTimeoutMs: undefined,
      lease: undefined,
      tombstoneTtlMs: 3_600_000,
      l1: undefined,
      publish: false,
      redisTimeoutMs: 1000,
    })
  })

  it('fills in lease and L1 defaults; L1 turns publishing on unless told otherwise', () => {
    const redis = lazy(new Redis({ lazyConnect: true }))
    expect(resolveOptions({ redis, prefix: 'p', distributedSingleFlight: true }).lease).toEqual({
      leaseMs: 5000,
      pollIntervalMs: 25,
    })
    expect(
      resolveOptions({ redis, prefix: 'p', distributedSingleFlight: { pollIntervalMs: 10 } }).lease,
    ).toEqual({ leaseMs: 5000, pollIntervalMs: 10 })
    expect(resolveOptions({ redis, prefix: 'p', l1: {} })).toMatchObject({
      l1: { maxEntries: 1000, ttlMs: 60_000 },
      publish: true,
    })
    expect(resolveOptions({ redis, prefix: 'p', l1: {}, publishInvalidations: false }).publish).toBe(false)
    expect(() => resolveOptions({ redis, prefix: 'p', l1: { maxEntries: 0 } })).toThrow(/l1.maxEntries/)
    expect(() => resolveOptions({ redis, prefix: 'p', distributedSingleFlight: { leaseMs: 1.5 } })).toThrow(
      /leaseMs/,
    )
    expect(() => checkGetOrSetOptions({ softTimeoutMs: -1 })).toThrow(InvalidArgumentError)
  })

  it('rejects durations that are not numbers of milliseconds, naming the option', () => {
    const redis = lazy(new Redis({ lazyConnect: true }))
    for (const [name, value] of [
      ['ttlMs', '5m'],
      ['graceMs', 300n],
      ['redisTimeoutMs', 0],
      ['tombstoneTtlMs', Number.POSITIVE_INFINITY],
      ['hardTimeoutMs', -1],
    ] as const) {
      expect(() => resolveOptions({ redis, prefix: 'p', [name]: value as never }), name).toThrow(
        expect.objectContaining({ code: 'E_INVALID_ARGUMENT', message: expect.stringContaining(name) }),
      )
    }
    expect(() => resolveOptions({ redis, prefix: 'p', ttlMs: '5m' as never })).toThrow(/milliseconds/)
  })
})
