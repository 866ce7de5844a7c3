import type { RedisClient } from '@x/redis-core'
import { describe, expectTypeOf, it } from 'vitest'
import {
  type AcquireResult,
  type CheckTraceContext,
  type ConcurrencyLimiterStats,
  createConcurrencyLimiter,
  createMemoryRateLimiter,
  createRateLimiter,
  type ErrorEvent,
  type FailureMode,
  InvalidArgumentError,
  ipKey,
  type Lease,
  type MemoryRateLimiterEvents,
  type MemoryRateLimiterStats,
  type RateLimiterEvents,
  type RateLimiterOptions,
  type RateLimiterStats,
  type RateLimitOutcome,
  type RateLimitResult,
  RedisUnavailableError,
  TimeoutError,
  UNKNOWN_CLIENT_KEY,
} from './index.js'

declare const redis: RedisClient

describe('@x/ratelimit public types', () => {
  it('isInstance narrows the exported errors to their classes, with their fields', () => {
    const error: unknown = new Error('x')
    if (TimeoutError.isInstance(error)) {
      expectTypeOf(error).toEqualTypeOf<TimeoutError>()
      expectTypeOf(error.code).toEqualTypeOf<'E_TIMEOUT'>()
      expectTypeOf(error.timeoutMs).toEqualTypeOf<number | undefined>()
    }
    if (RedisUnavailableError.isInstance(error)) expectTypeOf(error).toEqualTypeOf<RedisUnavailableError>()
    if (InvalidArgumentError.isInstance(error)) {
      expectTypeOf(error.code).toEqualTypeOf<'E_INVALID_ARGUMENT'>()
    }
  })

  it('options: one object, durations in ms, failureMode and redisTimeoutMs; the old names are gone', () => {
    expectTypeOf<RateLimiterOptions['redisTimeoutMs']>().toEqualTypeOf<number | undefined>()
    expectTypeOf<RateLimiterOptions['failureMode']>().toEqualTypeOf<FailureMode | undefined>()
    expectTypeOf<RateLimiterOptions>().not.toHaveProperty('timeoutMs')
    expectTypeOf<RateLimiterOptions>().not.toHaveProperty('onRedisError')
    expectTypeOf<RateLimiterOptions>().not.toHaveProperty('onError')
    const fallback = createMemoryRateLimiter({ policies: [{ limit: 1, windowMs: 1000 }] })
    expectTypeOf(fallback).toMatchTypeOf<FailureMode>()
    // @ts-expect-error durations are numbers of milliseconds, never strings
    createRateLimiter({ redis, limit: 1, windowMs: '1m' })
    // @ts-expect-error the Redis-call timeout has one name
    createRateLimiter({ redis, limit: 1, windowMs: 1000, timeoutMs: 500 })
  })

  it('limiters: typed results, events and stats', () => {
    const limiter = createRateLimiter({ redis, limit: 10, windowMs: 1000 })
    expectTypeOf(limiter.limit('k')).toEqualTypeOf<Promise<RateLimitResult>>()
    expectTypeOf(limiter.block).parameters.toEqualTypeOf<[key: string, blockMs: number]>()
    limiter.on('error', (payload) => {
      expectTypeOf(payload).toEqualTypeOf<ErrorEvent>()
    })
    limiter.on('limited', (payload) => {
      expectTypeOf(payload).toEqualTypeOf<{ key: string; result: RateLimitResult }>()
    })
    expectTypeOf(limiter.on('error', () => {})).toEqualTypeOf<() => void>()
    expectTypeOf(limiter.stats()).toEqualTypeOf<RateLimiterStats>()
    expectTypeOf<RateLimiterStats['redisErrors']>().toEqualTypeOf<number>()

    const concurrency = createConcurrencyLimiter({ redis, limit: 2, leaseMs: 5000, redisTimeoutMs: 500 })
    expectTypeOf(concurrency.acquire('k')).toEqualTypeOf<Promise<AcquireResult>>()
    expectTypeOf(concurrency.stats()).toEqualTypeOf<ConcurrencyLimiterStats>()
    const result = {} as AcquireResult
    if (result.acquired) expectTypeOf(result.lease).toEqualTypeOf<Lease>()
    else expectTypeOf(result.reason).toEqualTypeOf<'limited' | 'fail-closed'>()
  })

  it('the memory limiter: synchronous results, the limited event and stats without Redis fields', () => {
    const memory = createMemoryRateLimiter({ policies: [{ limit: 1, windowMs: 1000 }] })
    expectTypeOf(memory.limit('k')).toEqualTypeOf<RateLimitResult>()
    memory.on('limited', (payload) => {
      expectTypeOf(payload).toEqualTypeOf<{ key: string; result: RateLimitResult }>()
    })
    expectTypeOf(memory.on('limited', () => {})).toEqualTypeOf<() => void>()
    expectTypeOf<MemoryRateLimiterEvents['limited']>().toEqualTypeOf<RateLimiterEvents['limited']>()
    // @ts-expect-error no error event: every failure is thrown to the caller
    memory.on('error', () => {})
    expectTypeOf(memory.stats()).toEqualTypeOf<MemoryRateLimiterStats>()
    expectTypeOf<keyof MemoryRateLimiterStats>().toEqualTypeOf<
      'checks' | 'admitted' | 'rejected' | 'evictions' | 'keys'
    >()
    expectTypeOf<Pick<MemoryRateLimiterStats, 'checks' | 'admitted' | 'rejected'>>().toEqualTypeOf<
      Pick<RateLimiterStats, 'checks' | 'admitted' | 'rejected'>
    >()
  })

  it('tracing contexts and client keys', () => {
    expectTypeOf<CheckTraceContext['outcome']>().toEqualTypeOf<RateLimitOutcome | undefined>()
    expectTypeOf<RateLimitOutcome>().toEqualTypeOf<
      'allowed' | 'limited' | 'blocked' | 'blocked-cache' | 'fail-open' | 'fail-closed' | 'fallback'
    >()
    expectTypeOf(ipKey).toEqualTypeOf<
      (address: string, options?: { ipv6Subnet?: number | false }) => string
    >()
    expectTypeOf(UNKNOWN_CLIENT_KEY).toEqualTypeOf<'unknown-client'>()
  })
})
