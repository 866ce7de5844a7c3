import {
  assertDuration,
  assertPositive,
  assertRedisClient,
  createEmitter,
  createServerClock,
  InvalidArgumentError,
  keyspace,
  monotonicMicros,
  type RedisClient,
  randomId,
  redisCall,
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
  const answered = (key: string, result: AcquireResult): AcquireResult => {
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

  const release = async (key: string, id: string): Promise<boolean> => {
    const removed = await counted(redisCall(redis.zrem(redisKey(key), id), timeoutMs, 'lease release'))
    return removed === 1
  }

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
      async extend(ms = defaultLeaseMs) {
        assertDuration('ms', ms)
        if (released || !recorded) return false
        const reply = await counted(
          redisCall(extendScript.run(redis, [redisKey(key)], [id, ms * 1000]), timeoutMs, 'lease extend'),
        )
        if (reply === 0) return false
        ;(lease as { expiresAt: number }).expiresAt = reply
        return true
      },
      async [Symbol.asyncDispose]() {
        await lease.release()
      },
    }
    return lease
  }

  return {
    limit,
    async acquire(key, acquireOptions) {
      const fullKey = redisKey(key)
      const leaseMs = assertDuration('leaseMs', acquireOptions?.leaseMs ?? defaultLeaseMs)
      // 126 bits: a lease id is the holder's proof for release and extend.
      const id = randomId(21)
      let reply: AcquireReply
      try {
        const started = monotonicMicros()
        const send = (deadline: number, budgetMs: number) =>
          redisCall(
            acquireScript.run(redis, [fullKey], [id, limit, leaseMs * 1000, deadline]),
            budgetMs,
            'lease acquire',
          )
        reply = await send(deadlineOf(started), timeoutMs)
        if (reply[0] === 3) {
          // A probe (no measure of the server clock yet) or a wrong estimate: nothing was taken.
          // Measure from this reply and try once more with a real deadline, within the budget left.
          clock.forget()
          clock.observe(reply[1])
          const left = timeoutMs - (monotonicMicros() - started) / 1000
          if (left > 0) reply = await send(deadlineOf(started), left)
          if (reply[0] === 3) throw new TimeoutError(`lease acquire did not finish within ${timeoutMs} ms`)
        }
        clock.observe(reply[3])
      } catch (error) {
        redisFailed(error)
        if (failureMode === 'throw') throw error
        emitter.emit('error', { operation: 'acquire', error, key })
        if (failureMode === 'fail-open') {
          counts.failOpenAnswers++
          return answered(key, {
            acquired: true,
            lease: makeLease(key, id, Date.now() + leaseMs, false),
            limit,
            active: 0,
            // Unknown while Redis is unavailable: never advertise free slots.
            remaining: 0,
            retryAfterMs: 0,
            reason: 'fail-open',
          })
        }
        counts.failClosedAnswers++
        return answered(key, {
          acquired: false,
          limit,
          active: 0,
          remaining: 0,
          retryAfterMs: failClosedRetryAfterMs,
          reason: 'fail-closed',
        })
      }
      const [acquired, active, time] = reply
      if (acquired === 1) {
        return answered(key, {
          acquired: true,
          lease: makeLease(key, id, time, true),
          limit,
          active,
          remaining: Math.max(0, limit - active),
          retryAfterMs: 0,
        })
      }
      return answered(key, {
        acquired: false,
        limit,
        active,
        remaining: 0,
        retryAfterMs: Math.max(1, time),
        reason: 'limited',
      })
    },
    async release(key, id) {
      assertKey(key)
      if (typeof id !== 'string' || id.length === 0)
        throw new InvalidArgumentError('id must be a non-empty string')
      return release(key, id)
    },
    async active(key) {
      // Expired leases stay in the set until the next acquire; the script counts only live ones.
      return counted(redisCall(countScript.run(redis, [redisKey(key)]), timeoutMs, 'lease count'))
    },
    on: (event, listener) => emitter.on(event, listener),
    stats: () => ({ ...counts }),
  }
}
