// One concept in one file (~400 lines): the concurrency limiter — its options, and acquire, release,
// extend and active over one lease script. The operations share the resolved options, the server
// clock, the failure mode, the emitter and the counters of one instance; split, each would take them all.
import {
  assertDuration,
  assertPositive,
  assertRedisClient,
  createEmitter,
  createRedisCaller,
  createServerClock,
  createTracing,
  InvalidArgumentError,
  keyspace,
  monotonicMicros,
  type RedisClient,
  randomId,
  TimeoutError,
} from '@x/redis-core'
import { type AcquireReply, acquireScript, countScript, extendScript } from './concurrency.lua.js'
import { deadlineOf as serverDeadline } from './deadline.js'
import type { ConcurrencyLimiterEvents } from './events.js'
import { assertKey } from './key.js'

const REMOVED: Record<string, string> = {
  timeoutMs: 'redisTimeoutMs',
  onRedisError: 'failureMode',
  onError: "the 'error' event: limiter.on('error', listener)",
}

export interface ConcurrencyLimiterOptions {
  redis: RedisClient
  /**
   * Key prefix; each limited key is one sorted set `prefix:{key}:c`.
   * @default 'rl'
   */
  prefix?: string
  /** Most leases held at once per key. */
  limit: number
  /**
   * How long a lease lives unless released or extended: a holder that crashes frees its slot after this.
   * @default 30000
   */
  leaseMs?: number
  /**
   * Longest wait for Redis per call; a late acquire takes no lease.
   * @default 1000
   */
  redisTimeoutMs?: number
  /**
   * What `acquire()` answers when Redis errs or is too slow: `'fail-open'` hands out a lease that
   * is not recorded, `'fail-closed'` refuses, `'throw'` rejects with the typed error. An absorbed
   * error goes to the `error` event.
   * @default 'fail-open'
   */
  failureMode?: 'fail-open' | 'fail-closed' | 'throw'
  /**
   * `retryAfterMs` of a `fail-closed` answer.
   * @default 1000
   */
  failClosedRetryAfterMs?: number
}

/** Counters since the limiter was created. No Redis call. */
export interface ConcurrencyLimiterStats {
  /** `acquire()` calls answered. */
  acquires: number
  /** Leases handed out (fail-open ones included). */
  leases: number
  /** Acquires refused (no free slot, or fail-closed). */
  rejected: number
  failOpenAnswers: number
  failClosedAnswers: number
  /** Redis calls of any operation that failed (timeouts included). */
  redisErrors: number
  /** Of `redisErrors`, those that did not finish within `redisTimeoutMs`. */
  timeouts: number
}

/**
 * The context published on `x:ratelimit:acquire`, `release`, `extend` and `active`: the key and
 * facts, never a lease id (the holder's proof).
 */
export interface LeaseTraceContext {
  key: string
  leaseMs?: number
  /** `acquired`, `limited`, `fail-open`, `fail-closed` (acquire); `released`, `extended`, `not-held`. */
  outcome?: 'acquired' | 'limited' | 'fail-open' | 'fail-closed' | 'released' | 'extended' | 'not-held'
  roundTrips: number
}

export interface Lease {
  readonly key: string
  readonly id: string
  /** Epoch ms on the Redis clock after which the lease no longer counts (unless extended). */
  readonly expiresAt: number
  /** Frees the slot. True when the lease was still held. */
  release(): Promise<boolean>
  /** Moves the expiry to `now + ms` (default `leaseMs`). False when the lease had already expired. */
  extend(ms?: number): Promise<boolean>
  [Symbol.asyncDispose](): Promise<void>
}

export type AcquireResult =
  | {
      readonly acquired: true
      readonly lease: Lease
      readonly limit: number
      /** Leases held, this one included (as seen by Redis; `fail-open` reports 0). */
      readonly active: number
      readonly remaining: number
      readonly retryAfterMs: 0
      readonly reason?: 'fail-open'
    }
  | {
      readonly acquired: false
      readonly lease?: undefined
      readonly limit: number
      readonly active: number
      readonly remaining: 0
      /** Until the oldest lease expires; a release may free a slot sooner. */
      readonly retryAfterMs: number
      readonly reason: 'limited' | 'fail-closed'
    }

export interface ConcurrencyLimiter {
  readonly limit: number
  acquire(key: string, options?: { leaseMs?: number }): Promise<AcquireResult>
  /** Frees a lease by id (e.g. from another process). True when it was held. */
  release(key: string, id: string): Promise<boolean>
  /** Leases currently held for the key. */
  active(key: string): Promise<number>
  /** Adds a listener (`error`, `limited`); returns a function that removes it. */
  on<E extends keyof ConcurrencyLimiterEvents & string>(
    event: E,
    listener: (payload: ConcurrencyLimiterEvents[E]) => void,
  ): () => void
  stats(): ConcurrencyLimiterStats
}

/**
 * A distributed concurrency limiter: at most `limit` leases per key at once. Leases expire, so a
 * crashed holder frees its slot after `leaseMs`; expiry uses the Redis clock.
 */
export function createConcurrencyLimiter(options: ConcurrencyLimiterOptions): ConcurrencyLimiter {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options are required')
  for (const [old, replacement] of Object.entries(REMOVED)) {
    if (old in options) throw new InvalidArgumentError(`option ${old} was renamed: use ${replacement}`)
  }
  const { redis } = options
  assertRedisClient(redis)
  const prefix = keyspace(options.prefix ?? 'rl').prefix
  const limit = assertPositive('limit', options.limit, { integer: true })
  const defaultLeaseMs = assertDuration('leaseMs', options.leaseMs ?? 30_000)
  const timeoutMs = assertDuration('redisTimeoutMs', options.redisTimeoutMs ?? 1000)
  const failClosedRetryAfterMs = assertPositive(
    'failClosedRetryAfterMs',
    options.failClosedRetryAfterMs ?? 1000,
  )
  const failureMode = options.failureMode ?? 'fail-open'
  if (!['fail-open', 'fail-closed', 'throw'].includes(failureMode)) {
    throw new InvalidArgumentError(
      `failureMode must be 'fail-open', 'fail-closed' or 'throw', got ${String(failureMode)}`,
    )
  }
  const caller = createRedisCaller(redis, { timeoutMs })
  const emitter = createEmitter<ConcurrencyLimiterEvents>({ name: '@x/ratelimit' })
  const counts = {
    acquires: 0,
    leases: 0,
    rejected: 0,
    failOpenAnswers: 0,
    failClosedAnswers: 0,
    redisErrors: 0,
    timeouts: 0,
  }
  const redisFailed = (error: unknown) => {
    counts.redisErrors++
    if (TimeoutError.isInstance(error)) counts.timeouts++
  }
  /** A call whose failure the caller gets (as a rejection), counted. */
  const counted = <T>(promise: Promise<T>): Promise<T> =>
    promise.catch((error: unknown) => {
      redisFailed(error)
      throw error
    })
  const answered = (
    key: string,
    result: AcquireResult,
    context: LeaseTraceContext | undefined,
  ): AcquireResult => {
    if (context) context.outcome = result.acquired ? (result.reason ?? 'acquired') : result.reason
    counts.acquires++
    if (result.acquired) counts.leases++
    else {
      counts.rejected++
      if (emitter.has('limited')) emitter.emit('limited', { key, result })
    }
    return result
  }
  const clock = createServerClock()
  const deadlineOf = (started: number) => serverDeadline(clock, started, timeoutMs)
  const redisKey = (key: string) => `${prefix}:{${assertKey(key)}}:c`

  const tracing = createTracing('ratelimit')
  const tracers = {
    acquire: tracing.operation('acquire'),
    release: tracing.operation('release'),
    extend: tracing.operation('extend'),
    active: tracing.operation('active'),
  }
  /**
   * Publishes `fn` on `x:ratelimit:<operation>` when someone subscribes; the context is built only
   * then. It carries the key and facts, never a lease id (the holder's proof).
   */
  const traced = <T>(
    operation: keyof typeof tracers,
    makeContext: () => LeaseTraceContext,
    fn: (context: LeaseTraceContext | undefined) => Promise<T>,
  ): Promise<T> => {
    const tracer = tracers[operation]
    if (!tracer.active) return fn(undefined)
    const context = makeContext()
    const done = fn(context)
    // The channel would publish the resolved value as `context.result`, and a lease holds its id:
    // subscribers see the settlement of a copy that resolves to nothing (errors still published).
    tracer
      .trace(context, () => done.then(() => undefined))
      .catch(() => {
        // The caller gets this rejection from `done`.
      })
    return done
  }

  const release = (key: string, id: string): Promise<boolean> =>
    traced(
      'release',
      () => ({ key, roundTrips: 1 }),
      async (context) => {
        const removed = await counted(caller.run(() => redis.zrem(redisKey(key), id), 'ratelimit:release'))
        if (context) context.outcome = removed === 1 ? 'released' : 'not-held'
        return removed === 1
      },
    )

  const makeLease = (key: string, id: string, expiresAt: number, recorded: boolean): Lease => {
    let released = false
    const lease: Lease = {
      key,
      id,
      expiresAt,
      async release() {
        if (released || !recorded) return false
        released = true
        return release(key, id)
      },
      extend: (ms = defaultLeaseMs) =>
        traced(
          'extend',
          () => ({ key, leaseMs: ms, roundTrips: 0 }),
          async (context) => {
            assertDuration('ms', ms)
            if (released || !recorded) {
              if (context) context.outcome = 'not-held'
              return false
            }
            if (context) context.roundTrips = 1
            const reply = await counted(caller.script(extendScript, [redisKey(key)], [id, ms * 1000]))
            if (context) context.outcome = reply === 0 ? 'not-held' : 'extended'
            if (reply === 0) return false
            ;(lease as { expiresAt: number }).expiresAt = reply
            return true
          },
        ),
      async [Symbol.asyncDispose]() {
        await lease.release()
      },
    }
    return lease
  }

  const acquire = async (
    key: string,
    acquireOptions: { leaseMs?: number } | undefined,
    context: LeaseTraceContext | undefined,
  ): Promise<AcquireResult> => {
    const fullKey = redisKey(key)
    const leaseMs = assertDuration('leaseMs', acquireOptions?.leaseMs ?? defaultLeaseMs)
    // 126 bits: a lease id is the holder's proof for release and extend.
    const id = randomId(21)
    let reply: AcquireReply
    try {
      const started = monotonicMicros()
      // The server-side deadline stays started + timeout, so a retry never takes a lease late.
      const send = (deadline: number) => {
        if (context) context.roundTrips++
        return caller.script(acquireScript, [fullKey], [id, limit, leaseMs * 1000, deadline])
      }
      reply = await send(deadlineOf(started))
      if (reply[0] === 3) {
        // A probe (no measure of the server clock yet) or a wrong estimate: nothing was taken.
        // Measure from this reply and try once more with a real deadline, within the budget left.
        clock.forget()
        clock.observe(reply[1])
        const left = timeoutMs - (monotonicMicros() - started) / 1000
        if (left > 0) reply = await send(deadlineOf(started))
        if (reply[0] === 3) {
          throw new TimeoutError(`lease acquire did not finish within ${timeoutMs} ms`, { timeoutMs })
        }
      }
      clock.observe(reply[3])
    } catch (error) {
      redisFailed(error)
      if (failureMode === 'throw') throw error
      emitter.emit('error', { operation: 'acquire', error, key })
      if (failureMode === 'fail-open') {
        counts.failOpenAnswers++
        return answered(
          key,
          {
            acquired: true,
            lease: makeLease(key, id, Date.now() + leaseMs, false),
            limit,
            active: 0,
            // Unknown while Redis is unavailable: never advertise free slots.
            remaining: 0,
            retryAfterMs: 0,
            reason: 'fail-open',
          },
          context,
        )
      }
      counts.failClosedAnswers++
      return answered(
        key,
        {
          acquired: false,
          limit,
          active: 0,
          remaining: 0,
          retryAfterMs: failClosedRetryAfterMs,
          reason: 'fail-closed',
        },
        context,
      )
    }
    const [acquired, active, time] = reply
    if (acquired === 1) {
      return answered(
        key,
        {
          acquired: true,
          lease: makeLease(key, id, time, true),
          limit,
          active,
          remaining: Math.max(0, limit - active),
          retryAfterMs: 0,
        },
        context,
      )
    }
    return answered(
      key,
      {
        acquired: false,
        limit,
        active,
        remaining: 0,
        retryAfterMs: Math.max(1, time),
        reason: 'limited',
      },
      context,
    )
  }

  return {
    limit,
    acquire: (key, acquireOptions) =>
      traced(
        'acquire',
        () => ({ key, leaseMs: acquireOptions?.leaseMs ?? defaultLeaseMs, roundTrips: 0 }),
        (context) => acquire(key, acquireOptions, context),
      ),
    async release(key, id) {
      assertKey(key)
      if (typeof id !== 'string' || id.length === 0)
        throw new InvalidArgumentError('id must be a non-empty string')
      return release(key, id)
    },
    active: (key) =>
      traced(
        'active',
        () => ({ key, roundTrips: 1 }),
        // Expired leases stay in the set until the next acquire; the script counts only live ones.
        async () => counted(caller.script(countScript, [redisKey(key)])),
      ),
    on: (event, listener) => emitter.on(event, listener),
    stats: () => ({ ...counts }),
  }
}
