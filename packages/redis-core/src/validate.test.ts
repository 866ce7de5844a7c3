import { Cluster, Redis } from 'ioredis'
import { Cluster as Cluster5, Redis as Redis5 } from 'ioredis5'
import { afterAll, describe, expect, it } from 'vitest'
import { InvalidArgumentError } from './errors.js'
import { assertDuration, assertRedisClient, MAX_DURATION_MS } from './validate.js'

describe('assertDuration', () => {
  it('returns a number of milliseconds within the default bounds', () => {
    expect(assertDuration('ttlMs', 1)).toBe(1)
    expect(assertDuration('ttlMs', 1.5)).toBe(1.5)
    expect(assertDuration('ttlMs', MAX_DURATION_MS)).toBe(MAX_DURATION_MS)
  })

  it.each([0, -1, MAX_DURATION_MS + 1, Number.NaN, Number.POSITIVE_INFINITY, null, undefined, {}])(
    'rejects %o with an error naming the option',
    (value) => {
      expect(() => assertDuration('ttlMs', value)).toThrow(InvalidArgumentError)
      expect(() => assertDuration('ttlMs', value)).toThrow(/^ttlMs /)
    },
  )

  it('tells a user who writes a human string or a BigInt that the option takes milliseconds', () => {
    expect(() => assertDuration('ttlMs', '5m')).toThrow(/ttlMs takes milliseconds as a number .*"5m"/)
    expect(() => assertDuration('ttlMs', 300n)).toThrow(/ttlMs takes milliseconds as a number .*300/)
  })

  it('applies min, max and allowZero', () => {
    expect(assertDuration('graceMs', 0, { allowZero: true })).toBe(0)
    expect(() => assertDuration('graceMs', 0.5, { allowZero: true })).toThrow(/0 or 1\.\.2147483647/)
    expect(() => assertDuration('windowMs', 999, { min: 1000 })).toThrow(/within 1000\.\./)
    expect(() => assertDuration('windowMs', 60_001, { max: 60_000 })).toThrow(/got 60001/)
    expect(assertDuration('windowMs', 60_000, { max: 60_000 })).toBe(60_000)
  })
})

describe('assertRedisClient', () => {
  // lazyConnect: real clients, never connected, so nothing to close but their objects.
  const clients = {
    'ioredis 6 Redis': new Redis({ lazyConnect: true }),
    'ioredis 6 Cluster': new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true }),
    'ioredis 5 Redis': new Redis5({ lazyConnect: true }),
    'ioredis 5 Cluster': new Cluster5([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true }),
  }
  afterAll(() => {
    for (const client of Object.values(clients)) client.disconnect()
  })

  it.each(Object.entries(clients))('accepts a real %s client', (_, client) => {
    expect(() => assertRedisClient(client)).not.toThrow()
  })

  const nodeRedisLike = { sendCommand() {}, evalSha() {}, isOpen: false, connect() {} }
  it.each([
    ['undefined', undefined],
    ['a URL string', 'redis://localhost:6379'],
    ['a plain object', { host: 'localhost' }],
    ['a node-redis client', nodeRedisLike],
    ['an object with only evalsha', { evalsha() {} }],
  ])('rejects %s with InvalidArgumentError naming the option', (_, value) => {
    expect(() => assertRedisClient(value, 'connection')).toThrow(InvalidArgumentError)
    expect(() => assertRedisClient(value, 'connection')).toThrow(
      /^connection must be an ioredis Redis or Cluster/,
    )
  })
})
