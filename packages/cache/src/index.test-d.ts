import type { RedisClient } from '@x/redis-core'
import { describe, expectTypeOf, it } from 'vitest'
import {
  type Cache,
  type CacheEvents,
  type CacheOptions,
  type CacheStats,
  createCache,
  DecodeError,
  EncodeError,
  type FetchContext,
  FetchTimeoutError,
  type GetOrSetOptions,
  InvalidArgumentError,
  RedisUnavailableError,
  TimeoutError,
  type WriteOptions,
} from './index.js'

declare const redis: RedisClient
declare const error: unknown

describe('@x/cache public types', () => {
  it('createCache takes one options object with …Ms durations and returns a Cache', () => {
    expectTypeOf(createCache).parameter(0).toEqualTypeOf<CacheOptions>()
    expectTypeOf(createCache({ redis, prefix: 'p' })).toEqualTypeOf<Cache>()
    expectTypeOf<CacheOptions['ttlMs']>().toEqualTypeOf<number | undefined>()
    expectTypeOf<CacheOptions['redisTimeoutMs']>().toEqualTypeOf<number | undefined>()
    expectTypeOf<NonNullable<CacheOptions['l1']>['ttlMs']>().toEqualTypeOf<number | undefined>()
    expectTypeOf<GetOrSetOptions>().toHaveProperty('hardTimeoutMs')
    expectTypeOf<WriteOptions>().toHaveProperty('graceMs')
    // The old names are gone.
    // @ts-expect-error ttl was renamed ttlMs
    createCache({ redis, prefix: 'p', ttl: 1000 })
    // @ts-expect-error timeouts.redis was renamed redisTimeoutMs
    createCache({ redis, prefix: 'p', timeouts: { redis: 100 } })
    // @ts-expect-error onError became the error event
    createCache({ redis, prefix: 'p', onError: () => {} })
  })

  it('getOrSet infers the value type from the fetcher; the context has setTtlMs', () => {
    const cache = createCache({ redis, prefix: 'p' })
    expectTypeOf(cache.getOrSet('k', async () => ({ id: 1 }))).resolves.toEqualTypeOf<{ id: number }>()
    expectTypeOf(cache.get<string>('k')).resolves.toEqualTypeOf<string | undefined>()
    expectTypeOf<FetchContext<number>['setTtlMs']>().toEqualTypeOf<(ttlMs: number) => void>()
    expectTypeOf<FetchContext<number>['stale']>().toEqualTypeOf<number | undefined>()
  })

  it('isInstance narrows to the class with its fields', () => {
    if (FetchTimeoutError.isInstance(error)) {
      expectTypeOf(error).toEqualTypeOf<FetchTimeoutError>()
      expectTypeOf(error.key).toEqualTypeOf<string>()
      expectTypeOf(error.timeoutMs).toEqualTypeOf<number>()
      expectTypeOf(error.code).toEqualTypeOf<'E_CACHE_FETCH_TIMEOUT'>()
    }
    if (TimeoutError.isInstance(error)) expectTypeOf(error.timeoutMs).toEqualTypeOf<number | undefined>()
    if (RedisUnavailableError.isInstance(error))
      expectTypeOf(error.address).toEqualTypeOf<string | undefined>()
    if (InvalidArgumentError.isInstance(error)) expectTypeOf(error.code).toEqualTypeOf<'E_INVALID_ARGUMENT'>()
    if (EncodeError.isInstance(error)) expectTypeOf(error.code).toEqualTypeOf<'E_ENCODE'>()
    if (DecodeError.isInstance(error)) expectTypeOf(error.code).toEqualTypeOf<'E_DECODE'>()
  })

  it('events have typed payloads; the error event is { operation, error, key? }', () => {
    const cache = createCache({ redis, prefix: 'p' })
    expectTypeOf<CacheEvents['error']>().toEqualTypeOf<{ operation: string; error: unknown; key?: string }>()
    cache.on('hit', (event) => {
      expectTypeOf(event.layer).toEqualTypeOf<'l1' | 'redis'>()
    })
    expectTypeOf(cache.on('miss', () => {})).toEqualTypeOf<() => void>()
    // @ts-expect-error redisError became the error event
    cache.on('redisError', () => {})
  })

  it('stats() is a plain object of numbers', () => {
    expectTypeOf<CacheStats[keyof CacheStats]>().toEqualTypeOf<number>()
    expectTypeOf<CacheStats>().toHaveProperty('redisErrors')
    expectTypeOf<CacheStats>().toHaveProperty('fetchesInFlight')
  })

  it('a cache closes and disposes asynchronously', () => {
    expectTypeOf<Cache['close']>().returns.toEqualTypeOf<Promise<void>>()
    expectTypeOf<Cache[typeof Symbol.asyncDispose]>().returns.toEqualTypeOf<Promise<void>>()
  })
})
