import {
  assertPositive,
  createDeadlineQueue,
  InvalidArgumentError,
  keyspace,
  type RedisClient,
  redisCall,
  type Script,
  TimeoutError,
} from '@x/redis-core'
import { blockScript } from './block.lua.js'
import { BlockedCache, type BlockedCacheOptions } from './blocked-cache.js'
import { type CheckReply, checkScript, MODE_LIMIT, MODE_PEEK, MODE_REFUND } from './check.lua.js'
import { monotonicMicros, PROBE_DEADLINE, ServerDeadline } from './clock.js'
import { evalThen, evalWithTimeout, writeCoalescer } from './fast-call.js'
import { assertKey, keysOf, policySuffix } from './key.js'
import { gcraLimitScript } from './limit.lua.js'
import type { FallbackLimiter } from './memory-limiter.js'
import {
  ALGORITHM_CODE,
  type Algorithm,
  assertCost,
  normalizePolicies,
  type Policy,
  type PolicyOptions,
} from './policy.js'
import { type PolicyResult, type RateLimitResult, summarize } from './result.js'

/** What `limit()` does when Redis fails or does not answer within `timeoutMs`. */
export type RedisErrorPolicy = 'fail-open' | 'fail-closed' | 'throw' | FallbackLimiter

export interface RateLimiterOptions {
  /** An ioredis `Redis` or `Cluster`; `createRedis()` from @x/redis-core gives the safest defaults. */
  redis: RedisClient
  /**
   * Key prefix. Keys look like `prefix:{key}:policy:g`.
   * @default 'rl'
   */
  prefix?: string
  /**
   * The policies checked together, all or nothing (e.g. 10 per second and 1000 per day). Use either
   * `policies` or the single-policy shorthand (`algorithm`, `limit`, `windowMs`, `burst`).
   */
  policies?: readonly PolicyOptions[]
  /** Single-policy shorthand. @default 'gcra' */
  algorithm?: Algorithm
  /** Single-policy shorthand: requests per `windowMs`. */
  limit?: number
  /** Single-policy shorthand: window in milliseconds. */
  windowMs?: number
  /** Single-policy shorthand, GCRA only. @default limit */
  burst?: number
  /**
   * What `limit()` answers when Redis errs or is slower than `timeoutMs`: `'fail-open'` admits,
   * `'fail-closed'` rejects, a limiter (e.g. `createMemoryRateLimiter`) decides in its place,
   * `'throw'` rejects the promise with the typed error. The result's `reason` says which applied.
   * @default 'fail-open'
   */
  onRedisError?: RedisErrorPolicy
  /**
   * Longest wait for Redis per call. A check that Redis executes after this deadline (a paused
   * server that resumes, a resent command) changes nothing: the script compares it with the server clock.
   * @default 1000
   */
  timeoutMs?: number
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
  /** Called with every Redis error that `onRedisError` absorbed (and errors of the fallback). */
  onError?: (error: unknown, context: { operation: string; key: string }) => void
}

export interface LimitOptions {
  /**
   * Units this request spends (a positive integer).
   * @default 1
   */
  cost?: number
}

export interface RateLimiter {
  readonly policies: readonly Policy[]
  /** Spends `cost` from every policy when all of them admit it; otherwise spends nothing. Never throws for "limited". */
  limit(key: string, options?: LimitOptions): Promise<RateLimitResult>
  /** What `limit()` would answer, without spending anything. */
  peek(key: string, options?: LimitOptions): Promise<RateLimitResult>
  /** Gives `cost` back to every policy, never above capacity. */
  refund(key: string, cost?: number): Promise<RateLimitResult>
  /** Forgets every policy's state and any block of the key. */
  reset(key: string): Promise<void>
  /** Rejects every check of the key for `ms` milliseconds (replacing an earlier block). */
  block(key: string, ms: number): Promise<void>
}

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options are required')
  const { redis } = options
  if (!redis || typeof (redis as { evalsha?: unknown }).evalsha !== 'function') {
    throw new InvalidArgumentError('redis must be an ioredis Redis or Cluster client')
  }
  const prefix = keyspace(options.prefix ?? 'rl').prefix
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
  if (options.policies && (options.limit !== undefined || options.windowMs !== undefined)) {
    throw new InvalidArgumentError('pass either policies or limit/windowMs, not both')
  }
  const timeoutMs = assertPositive('timeoutMs', options.timeoutMs ?? 1000)
  const failClosedRetryAfterMs = assertPositive(
    'failClosedRetryAfterMs',
    options.failClosedRetryAfterMs ?? 1000,
  )
  const onRedisError = options.onRedisError ?? 'fail-open'
  if (
    typeof onRedisError === 'string'
      ? !['fail-open', 'fail-closed', 'throw'].includes(onRedisError)
      : typeof onRedisError?.limit !== 'function'
  ) {
    throw new InvalidArgumentError("onRedisError must be 'fail-open', 'fail-closed', 'throw' or a limiter")
  }
  const cache =
    options.blockedCache === undefined || options.blockedCache === false
      ? undefined
      : new BlockedCache(
          assertPositive(
            'blockedCache.maxKeys',
            (options.blockedCache === true ? undefined : options.blockedCache.maxKeys) ?? 10_000,
            { integer: true },
          ),
        )

  const compiled = policies.map((policy) => ({
    code: ALGORITHM_CODE[policy.algorithm],
    limit: policy.limit,
    windowUs: policy.windowMs * 1000,
    capacity: policy.capacity,
  }))
  const script = checkScript(compiled)
  // limit() runs straight-line Lua generated for this configuration when there is one; it takes
  // cost and deadline only (no mode) and answers like the generic script in limit mode.
  const limitScript = gcraLimitScript(compiled)
  const queue = createDeadlineQueue(timeoutMs)
  const coalesce = writeCoalescer(redis)
  const keyCount = policies.length + 1
  const suffixes = policies.map(policySuffix)

  const clock = new ServerDeadline()
  const deadlineOf = (started: number) => clock.deadline(started, timeoutMs) || PROBE_DEADLINE

  const report = (error: unknown, operation: string, key: string) => {
    if (!options.onError) return
    try {
      options.onError(error, { operation, key })
    } catch {
      // A failing error hook must not turn a rate-limit answer into a crash.
    }
  }

  /**
   * A check whose reply says it ran past its deadline (status 3) changed nothing. Either it was a
   * probe (the limiter had no measure of the server clock yet) or the estimate was wrong (the server
   * clock stepped): the reply's server time is a fresh measure, so the check is sent once more with a
   * deadline from it, within what is left of the budget. Never without a deadline: a late check must
   * not change state, from the very first call on.
   */
  const again = (
    checkWith: Script<CheckReply>,
    args: Array<string | number>,
    started: number,
    reply: CheckReply,
  ): Promise<CheckReply> => {
    clock.forget()
    clock.observe(reply[1]!)
    const left = timeoutMs - (monotonicMicros() - started) / 1000
    if (left <= 0) {
      return Promise.reject(new TimeoutError(`rate limit check did not finish within ${timeoutMs} ms`))
    }
    args[args.length - 1] = deadlineOf(started)
    return evalWithTimeout(redis, checkWith, keyCount, args, left, 'rate limit check').then((second) => {
      if (second[0] === 3) {
        throw new TimeoutError(`rate limit check did not finish within ${timeoutMs} ms`)
      }
      clock.observe(second[1]!)
      return second
    })
  }

  const call = (key: string, mode: number, cost: number): Promise<CheckReply> => {
    const started = monotonicMicros()
    const args: Array<string | number> = keysOf(prefix, key, suffixes)
    args.push(mode, cost, deadlineOf(started))
    coalesce()
    return evalWithTimeout(redis, script, keyCount, args, timeoutMs, 'rate limit check').then((reply) => {
      if (reply[0] === 3) return again(script, args, started, reply)
      clock.observe(reply[1]!)
      return reply
    })
  }

  const decode = (reply: CheckReply): RateLimitResult => {
    const now = reply[1]! / 1000
    if (reply[0] === 2) {
      const blockedMs = reply[2]!
      const results = policies.map((policy) => ({
        name: policy.name,
        algorithm: policy.algorithm,
        limit: policy.limit,
        windowMs: policy.windowMs,
        remaining: 0,
        resetMs: blockedMs,
        retryAfterMs: blockedMs,
      }))
      return summarize(false, results, now, 'blocked')
    }
    const allowed = reply[0] === 1
    let never = false
    const results = new Array<PolicyResult>(policies.length)
    for (let i = 0; i < policies.length; i++) {
      const policy = policies[i]!
      const at = 2 + i * 3
      const retry = reply[at + 2]!
      if (retry < 0) never = true
      results[i] = {
        name: policy.name,
        algorithm: policy.algorithm,
        limit: policy.limit,
        windowMs: policy.windowMs,
        remaining: reply[at]!,
        resetMs: reply[at + 1]!,
        retryAfterMs: retry < 0 ? Number.POSITIVE_INFINITY : retry,
      }
    }
    return summarize(allowed, results, now, allowed ? undefined : never ? 'cost-exceeds-limit' : 'limited')
  }

  const failed = async (error: unknown, key: string, cost: number): Promise<RateLimitResult> => {
    if (onRedisError === 'throw') throw error
    report(error, 'limit', key)
    const now = Date.now()
    if (onRedisError === 'fail-open' || onRedisError === 'fail-closed') {
      const open = onRedisError === 'fail-open'
      const results = policies.map((policy) => ({
        name: policy.name,
        algorithm: policy.algorithm,
        limit: policy.limit,
        windowMs: policy.windowMs,
        // Unknown while Redis is unavailable: never advertise a full budget (see headers()).
        remaining: 0,
        resetMs: 0,
        retryAfterMs: open ? 0 : failClosedRetryAfterMs,
      }))
      return summarize(open, results, now, onRedisError)
    }
    try {
      const result = await onRedisError.limit(key, { cost })
      return { ...result, reason: 'fallback' }
    } catch (fallbackError) {
      report(fallbackError, 'fallback', key)
      throw fallbackError
    }
  }

  const limit = (key: string, limitOptions?: LimitOptions): Promise<RateLimitResult> => {
    let cost = 1
    try {
      assertKey(key)
      if (limitOptions?.cost !== undefined) cost = assertCost(limitOptions.cost)
    } catch (error) {
      return Promise.reject(error)
    }
    if (cache) {
      const cached = cache.get(key, cost)
      if (cached) return Promise.resolve(cached)
    }
    const started = monotonicMicros()
    const args: Array<string | number> = keysOf(prefix, key, suffixes)
    if (limitScript === undefined) args.push(MODE_LIMIT)
    args.push(cost, deadlineOf(started))
    const checkWith = limitScript ?? script
    const answer = (reply: CheckReply): RateLimitResult => {
      const result = decode(reply)
      // A block rejects every cost; a limit rejects this cost and larger ones.
      if (cache && !result.allowed) cache.remember(key, result.reason === 'blocked' ? 1 : cost, result)
      return result
    }
    const fail = (error: unknown) => failed(error, key, cost)
    coalesce()
    return evalThen(
      redis,
      checkWith,
      keyCount,
      args,
      queue,
      'rate limit check',
      (reply) => {
        if (reply[0] === 3) return again(checkWith, args, started, reply).then(answer, fail)
        clock.observe(reply[1]!)
        return answer(reply)
      },
      fail,
    )
  }

  return {
    policies,
    limit,
    async peek(key, peekOptions) {
      assertKey(key)
      const cost = peekOptions?.cost === undefined ? 1 : assertCost(peekOptions.cost)
      return decode(await call(key, MODE_PEEK, cost))
    },
    async refund(key, cost = 1) {
      assertKey(key)
      assertCost(cost)
      cache?.forget(key)
      return decode(await call(key, MODE_REFUND, cost))
    },
    async reset(key) {
      assertKey(key)
      cache?.forget(key)
      // One UNLINK of keys sharing a hash tag: atomic, one slot, one round trip.
      await redisCall(redis.unlink(...keysOf(prefix, key, suffixes)), timeoutMs, 'rate limit reset')
    },
    async block(key, ms) {
      assertKey(key)
      assertPositive('ms', ms, { integer: true })
      cache?.forget(key)
      await redisCall(
        blockScript.run(redis, [keysOf(prefix, key, [])[0]!], [ms]),
        timeoutMs,
        'rate limit block',
      )
    },
  }
}
