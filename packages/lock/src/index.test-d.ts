import type { RedisClient } from '@x/redis-core'
import { describe, expectTypeOf, it } from 'vitest'
import {
  type AcquireOptions,
  type CreateLockOptions,
  createLock,
  InvalidArgumentError,
  type Lease,
  type Lock,
  type LockEvents,
  LockLostError,
  LockNotHeldError,
  type LockStats,
  LockTimeoutError,
  QuorumError,
  RedisUnavailableError,
  TimeoutError,
} from './index.js'

declare const redis: RedisClient

describe('@x/lock public types', () => {
  it('isInstance narrows every error to its class, with its fields', () => {
    const error: unknown = new Error('x')
    if (LockTimeoutError.isInstance(error)) {
      expectTypeOf(error).toEqualTypeOf<LockTimeoutError>()
      expectTypeOf(error.code).toEqualTypeOf<'E_LOCK_TIMEOUT'>()
      expectTypeOf(error.resource).toEqualTypeOf<string>()
      expectTypeOf(error.waitedMs).toEqualTypeOf<number>()
    }
    if (QuorumError.isInstance(error)) {
      expectTypeOf(error).toEqualTypeOf<QuorumError>()
      expectTypeOf(error.code).toEqualTypeOf<'E_LOCK_QUORUM'>()
      expectTypeOf(error.answered).toEqualTypeOf<number>()
      expectTypeOf(error.quorum).toEqualTypeOf<number>()
    }
    if (LockLostError.isInstance(error)) expectTypeOf(error.resource).toEqualTypeOf<string>()
    if (LockNotHeldError.isInstance(error)) expectTypeOf(error.code).toEqualTypeOf<'E_LOCK_NOT_HELD'>()
    if (TimeoutError.isInstance(error)) expectTypeOf(error.timeoutMs).toEqualTypeOf<number | undefined>()
    if (RedisUnavailableError.isInstance(error)) expectTypeOf(error).toEqualTypeOf<RedisUnavailableError>()
    if (InvalidArgumentError.isInstance(error)) expectTypeOf(error).toEqualTypeOf<InvalidArgumentError>()
  })

  it('options spell durations in ms and take no callbacks', () => {
    expectTypeOf<CreateLockOptions['ttlMs']>().toEqualTypeOf<number | undefined>()
    expectTypeOf<CreateLockOptions['waitMs']>().toEqualTypeOf<number | undefined>()
    expectTypeOf<CreateLockOptions['redisTimeoutMs']>().toEqualTypeOf<number | undefined>()
    expectTypeOf<AcquireOptions>().toEqualTypeOf<{ ttlMs?: number; waitMs?: number; signal?: AbortSignal }>()
    // @ts-expect-error the old names are gone
    createLock({ redis, ttl: 5000 })
    // @ts-expect-error the old name of the Redis-call timeout is gone
    createLock({ redis, commandTimeoutMs: 5000 })
    // @ts-expect-error events are subscribed with on(), not passed as an option
    createLock({ redis, events: {} })
  })

  it('events have typed payloads and on() returns the remover', () => {
    const lock: Lock = createLock({ redis })
    const off = lock.on('error', (event) => {
      expectTypeOf(event).toEqualTypeOf<LockEvents['error']>()
      expectTypeOf(event.key).toEqualTypeOf<string | undefined>()
      expectTypeOf(event.operation).toEqualTypeOf<'extend' | 'release' | 'cleanup' | 'subscribe'>()
    })
    expectTypeOf(off).toEqualTypeOf<() => void>()
    lock.on('acquired', (event) => expectTypeOf(event.waitedMs).toEqualTypeOf<number>())
    expectTypeOf(lock.stats()).toEqualTypeOf<LockStats>()
    expectTypeOf(lock.acquire('r')).toEqualTypeOf<Promise<Lease>>()
    expectTypeOf(lock.tryAcquire('r')).toEqualTypeOf<Promise<Lease | null>>()
    expectTypeOf<Lease['fence']>().toEqualTypeOf<number>()
  })
})
