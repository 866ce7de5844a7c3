import {
  assertDuration,
  assertPositive,
  assertRedisClient,
  InvalidArgumentError,
  keyspace,
  type RedisClient,
} from '@x/redis-core'
import type { BlockedCacheOptions } from './blocked-cache.js'
import type { FallbackLimiter } from './memory-limiter.js'
import { type Algorithm, normalizePolicies, type Policy, type PolicyOptions } from './policy.js'

/**
 * What a check answers when Redis errs or does not answer within `redisTimeoutMs`:
 * `'fail-open'` admits, `'fail-closed'` rejects, a limiter (e.g. `createMemoryRateLimiter`) decides
 * in its place, `'throw'` rejects the promise with the typed error. The result's `reason` says which
 * applied, and the absorbed error goes to the `error` event.
 */
export type FailureMode = 'fail-open' | 'fail-closed' | 'throw' | FallbackLimiter

export interface RateLimiterOptions {
  /** An ioredis `Redis` or `Cluster`; `createRedis()` from @x/redis-core gives the safest defaults. */
  redis: RedisClient
  /**
   * Key prefix. Keys look like `prefix:{key}:policy`.
   * @default 'rl'
   */
  prefix?: string
  /**
   * The policies checked together, all or nothing (e.g. 10 per second and 1000 per day). Use either
   * `policies` or the single-policy shorthand (`algorithm`, `limit`, `windowMs`, `burst`).
   */
  policies?: readonly PolicyOptions[]
  /**
   * Single-policy shorthand.
   * @default 'gcra'
   */
  algorithm?: Algorithm
  /** Single-policy shorthand: requests (cost units) per `windowMs`. */
  limit?: number
  /** Single-policy shorthand: window in milliseconds (an integer). */
  windowMs?: number
  /**
   * Single-policy shorthand, GCRA only: units that may be spent at once after a quiet period.
   * @default limit
   */
  burst?: number
  /**
   * What a check answers when Redis errs or is slower than `redisTimeoutMs` (see `FailureMode`).
   * @default 'fail-open'
   */
  failureMode?: FailureMode
  /**
   * Longest wait for Redis per call. A check that Redis executes after this deadline (a paused
   * server that resumes, a resent command) changes nothing: the script compares it with the server clock.
   * @default 1000
   */
  redisTimeoutMs?: number
  /**
   * `retryAfterMs` of a `fail-closed` answer.
   * @default 1000
   */
  failClosedRetryAfterMs?: number
  /**
   * Remember rejected keys in memory until their retry time and answer them without Redis.
   * `true` uses the defaults. Other instances do not see a `reset()` or `refund()` until then.
   * @default false
   */
  blockedCache?: boolean | BlockedCacheOptions
}

/** The validated options of a limiter. */
export interface ResolvedRateLimiterOptions {
  redis: RedisClient
  prefix: string
  policies: Policy[]
  failureMode: FailureMode
  redisTimeoutMs: number
  failClosedRetryAfterMs: number
  /** Most keys of the blocked cache, undefined without one. */
  blockedCacheKeys: number | undefined
}

const REMOVED: Record<string, string> = {
  timeoutMs: 'redisTimeoutMs',
  onRedisError: 'failureMode',
  onError: "the 'error' event: limiter.on('error', listener)",
}

/** Validates every option when the limiter is created, so a wrong one fails at start-up. */
export function resolveRateLimiterOptions(options: RateLimiterOptions): ResolvedRateLimiterOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options are required')
  for (const [old, replacement] of Object.entries(REMOVED)) {
    if (old in options) throw new InvalidArgumentError(`option ${old} was renamed: use ${replacement}`)
  }
  const { redis } = options
  assertRedisClient(redis)
  if (options.policies && (options.limit !== undefined || options.windowMs !== undefined)) {
    throw new InvalidArgumentError('pass either policies or limit/windowMs, not both')
  }
  const policies = normalizePolicies(
    options.policies ??
      ([
        {
          algorithm: options.algorithm,
          limit: options.limit,
          windowMs: options.windowMs,
          ...(options.burst === undefined ? {} : { burst: options.burst }),
        },
      ] as PolicyOptions[]),
  )
  const failureMode = options.failureMode ?? 'fail-open'
  if (
    typeof failureMode === 'string'
      ? !['fail-open', 'fail-closed', 'throw'].includes(failureMode)
      : typeof failureMode?.limit !== 'function'
  ) {
    throw new InvalidArgumentError(
      `failureMode must be 'fail-open', 'fail-closed', 'throw' or a limiter, got ${String(failureMode)}`,
    )
  }
  const blocked = options.blockedCache
  return {
    redis,
    prefix: keyspace(options.prefix ?? 'rl').prefix,
    policies,
    failureMode,
    redisTimeoutMs: assertDuration('redisTimeoutMs', options.redisTimeoutMs ?? 1000),
    failClosedRetryAfterMs: assertDuration('failClosedRetryAfterMs', options.failClosedRetryAfterMs ?? 1000),
    blockedCacheKeys:
      blocked === undefined || blocked === false
        ? undefined
        : assertPositive('blockedCache.maxKeys', (blocked === true ? undefined : blocked.maxKeys) ?? 10_000, {
            integer: true,
          }),
  }
}
