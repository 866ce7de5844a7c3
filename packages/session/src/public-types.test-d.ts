import type { RedisClient } from '@x/redis-core'
import { describe, expectTypeOf, it } from 'vitest'
import type { SessionEnv } from './hono/index.js'
import {
  createExpressSessionStore,
  createSessionCookie,
  createSessionStore,
  DecodeError,
  EncodeError,
  InvalidArgumentError,
  RedisUnavailableError,
  type Session,
  SessionConflictError,
  SessionDataTooLargeError,
  type SessionOutcome,
  type SessionStore,
  type SessionStoreOptions,
  type SessionStoreStats,
  TimeoutError,
} from './index.js'

declare const redis: RedisClient
type Data = { email: string; role: 'user' | 'admin' }

describe('public types of @x/session', () => {
  it('exports every error it can throw, and isInstance narrows to the class with its fields', () => {
    const error: unknown = new Error('x')
    if (SessionConflictError.isInstance(error)) {
      expectTypeOf(error).toEqualTypeOf<SessionConflictError>()
      expectTypeOf(error.sessionId).toEqualTypeOf<string>()
      expectTypeOf(error.reason).toEqualTypeOf<'contended' | 'rotated'>()
      expectTypeOf(error.code).toEqualTypeOf<'E_SESSION_CONFLICT'>()
    }
    if (SessionDataTooLargeError.isInstance(error)) {
      expectTypeOf(error.sizeBytes).toEqualTypeOf<number>()
      expectTypeOf(error.maxDataBytes).toEqualTypeOf<number>()
    }
    if (TimeoutError.isInstance(error)) expectTypeOf(error.timeoutMs).toEqualTypeOf<number | undefined>()
    if (RedisUnavailableError.isInstance(error)) expectTypeOf(error).toEqualTypeOf<RedisUnavailableError>()
    expectTypeOf(InvalidArgumentError.isInstance).toBeFunction()
    expectTypeOf(DecodeError.isInstance).toBeFunction()
    expectTypeOf(EncodeError.isInstance).toBeFunction()
  })

  it('takes durations as …Ms numbers and redisTimeoutMs, and nothing of the old names', () => {
    expectTypeOf<SessionStoreOptions['idleTimeoutMs']>().toEqualTypeOf<number | undefined>()
    expectTypeOf<SessionStoreOptions['absoluteTimeoutMs']>().toEqualTypeOf<number | undefined>()
    expectTypeOf<SessionStoreOptions['touchIntervalMs']>().toEqualTypeOf<number | undefined>()
    expectTypeOf<SessionStoreOptions['redisTimeoutMs']>().toEqualTypeOf<number | undefined>()
    // @ts-expect-error renamed to idleTimeoutMs
    createSessionStore({ redis, idleTimeout: 1000 })
    // @ts-expect-error renamed to redisTimeoutMs
    createSessionStore({ redis, timeout: 1000 })
    // @ts-expect-error the error event replaced onError
    createSessionStore({ redis, onError: () => {} })
    // @ts-expect-error a duration is a number of milliseconds
    createSessionStore({ redis, idleTimeoutMs: '5m' })
    // @ts-expect-error renamed to maxAgeMs
    createSessionCookie({ maxAge: 1000 })
    // @ts-expect-error renamed to redisTimeoutMs
    createExpressSessionStore({ Store: class {} }, { redis, timeout: 300 })
  })

  it('types session data, events, stats and outcomes', () => {
    const store = createSessionStore<Data>({ redis })
    expectTypeOf(store).toEqualTypeOf<SessionStore<Data>>()
    expectTypeOf(store.get).returns.resolves.toEqualTypeOf<Session<Data> | null>()
    expectTypeOf<Session<Data>['data']['role']>().toEqualTypeOf<'user' | 'admin'>()
    store.on('error', (payload) => {
      expectTypeOf(payload).toEqualTypeOf<{ operation: string; error: Error; key?: string }>()
    })
    expectTypeOf(store.on('error', () => {})).toEqualTypeOf<() => void>()
    expectTypeOf(store.stats()).toEqualTypeOf<SessionStoreStats>()
    expectTypeOf<'found'>().toMatchTypeOf<SessionOutcome>()
    expectTypeOf<'expired'>().toMatchTypeOf<SessionOutcome>()
    expectTypeOf<'conflict'>().toMatchTypeOf<SessionOutcome>()
    // @ts-expect-error update patches are typed by the data
    store.update('token', { role: 'root' })
  })

  it('gives Hono handlers a typed session', () => {
    type Variables = SessionEnv<Data>['Variables']
    expectTypeOf<Variables['session']>().toEqualTypeOf<Session<Data> | null>()
    expectTypeOf<Variables['sessions']['login']>().parameters.toEqualTypeOf<
      [userId: string, data: Data, options?: { device?: { userAgent?: string; ip?: string; label?: string } }]
    >()
  })
})
