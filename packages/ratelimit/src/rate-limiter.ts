// One concept in one file (~330 lines): the rate limiter's facade — limit, peek, refund, reset and
// block over the shared check path, with the failure mode, tracing and counters they all share. The
// algorithms, the scripts, the blocked-key cache and the headers live in files of their own.
import {
  assertDuration,
  createEmitter,
  createRedisCaller,
  createServerClock,
  createTracing,
  monotonicMicros,
  type Script,
  TimeoutError,
} from '@x/redis-core'
import { blockScript } from './block.lua.js'
import { BlockedCache } from './blocked-cache.js'
import { type CheckReply, checkScript, MODE_LIMIT, MODE_PEEK, MODE_REFUND } from './check.lua.js'
import { deadlineOf as serverDeadline } from './deadline.js'
import { recordDecision } from './decisions.js'
import { decodeReply, failureResult } from './decode.js'
import type { RateLimiterEvents } from './events.js'
import { assertKey, keysOf, policySuffix } from './key.js'
import { gcraLimitScript } from './limit.lua.js'
import { ALGORITHM_CODE, assertCost, type Policy } from './policy.js'
import { type RateLimiterOptions, resolveRateLimiterOptions } from './rate-limiter-options.js'
import type { RateLimitResult } from './result.js'
import { type CheckTraceContext, recordOutcome } from './trace-context.js'

export interface LimitOptions {
  /**
   * Units this request spends (a positive integer).
   * @default 1
   */
  cost?: number
}

/** Counters since the limiter was created, and gauges of now. No Redis call. */
export interface RateLimiterStats {
  /** `limit()` calls answered, whoever answered them. */
  checks: number
  /** Checks admitted (by Redis, fail-open or the fallback). */
  admitted: number
  /** Checks rejected, for any reason. */
  rejected: number
  /** Checks answered from the blocked-key cache, without Redis. */
  cacheHits: number
  /** Checks answered by the failure mode: fail-open, fail-closed, or the fallback limiter. */
  failOpenAnswers: number
  failClosedAnswers: number
  fallbackAnswers: number
  /** Redis calls of any operation that failed (timeouts included). */
  redisErrors: number
  /** Of `redisErrors`, those that did not finish within `redisTimeoutMs`. */
  timeouts: number
  /** Keys held now by the blocked-key cache. */
  blockedKeys: number
}

export interface RateLimiter {
  readonly policies: readonly Policy[]
  /** Spends `cost` from every policy when all of them admit it; otherwise spends nothing. Never rejects for "limited". */
  limit(key: string, options?: LimitOptions): Promise<RateLimitResult>
  /** What `limit()` would answer, without spending anything. */
  peek(key: string, options?: LimitOptions): Promise<RateLimitResult>
  /** Gives `cost` back to every policy, never above capacity. */
  refund(key: string, cost?: number): Promise<RateLimitResult>
  /** Forgets every policy's state and any block of the key. */
  reset(key: string): Promise<void>
  /** Rejects every check of the key for `blockMs` milliseconds (replacing an earlier block). */
  block(key: string, blockMs: number): Promise<void>
  /** Adds a listener (`error`, `limited`); returns a function that removes it. */
  on<E extends keyof RateLimiterEvents & string>(
    event: E,
    listener: (payload: RateLimiterEvents[E]) => void,
  ): () => void
  stats(): RateLimiterStats
}

export type { FailureMode, RateLimiterOptions } from './rate-limiter-options.js'

/**
 * A Redis rate limiter: every policy of a key is checked and spent in one Lua call on the Redis
 * server clock, all or nothing.
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { redis, prefix, policies, failureMode, redisTimeoutMs, failClosedRetryAfterMs, blockedCacheKeys } =
    resolveRateLimiterOptions(options)
  const cache = blockedCacheKeys === undefined ? undefined : new BlockedCache(blockedCacheKeys)
  const emitter = createEmitter<RateLimiterEvents>({ name: '@x/ratelimit' })
  const tracing = createTracing('ratelimit')
  const traceLimit = tracing.operation('limit')
  const counts = {
    checks: 0,
    admitted: 0,
    rejected: 0,
    cacheHits: 0,
    failOpenAnswers: 0,
    failClosedAnswers: 0,
    fallbackAnswers: 0,
    redisErrors: 0,
    timeouts: 0,
  }

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
  // Core's one call path: deadline from a queue shared per client, NOSCRIPT answered by one EVAL,
  // errors mapped once, the checks of one tick coalesced into few socket writes.
  const caller = createRedisCaller(redis, { timeoutMs: redisTimeoutMs })
  const suffixes = policies.map(policySuffix)
  const clock = createServerClock()
  const deadlineOf = (started: number) => serverDeadline(clock, started, redisTimeoutMs)
  const timedOut = () =>
    new TimeoutError(`rate limit check did not finish within ${redisTimeoutMs} ms`, {
      timeoutMs: redisTimeoutMs,
    })

  /** Counts a failed Redis call and reports it when the caller does not get it. */
  const redisFailed = (error: unknown, operation: string, key: string, reported: boolean) => {
    counts.redisErrors++
    if (TimeoutError.isInstance(error)) counts.timeouts++
    if (reported) emitter.emit('error', { operation, error, key })
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
    keys: string[],
    args: Array<string | number>,
    started: number,
    reply: CheckReply,
    context: CheckTraceContext | undefined,
  ): Promise<CheckReply> => {
    clock.forget()
    clock.observe(reply[1]!)
    const left = redisTimeoutMs - (monotonicMicros() - started) / 1000
    if (left <= 0) return Promise.reject(timedOut())
    // The server-side deadline stays the original one (started + timeout): whatever the local wait,
    // this second call changes nothing once the budget is spent.
    args[args.length - 1] = deadlineOf(started)
    if (context) context.roundTrips++
    return caller.script(checkWith, keys, args).then((second) => {
      if (second[0] === 3) throw timedOut()
      clock.observe(second[1]!)
      return second
    })
  }

  const call = (
    key: string,
    mode: number,
    cost: number,
    context: CheckTraceContext | undefined,
  ): Promise<CheckReply> => {
    const started = monotonicMicros()
    const keys = keysOf(prefix, key, suffixes)
    const args: Array<string | number> = [mode, cost, deadlineOf(started)]
    if (context) context.roundTrips++
    return caller.script(script, keys, args).then((reply) => {
      if (reply[0] === 3) return again(script, keys, args, started, reply, context)
      clock.observe(reply[1]!)
      return reply
    })
  }

  const answered = (
    key: string,
    result: RateLimitResult,
    context: CheckTraceContext | undefined,
  ): RateLimitResult => {
    if (context) recordOutcome(context, result)
    return recordDecision(counts, emitter, key, result)
  }

  const failed = async (
    error: unknown,
    key: string,
    cost: number,
    context: CheckTraceContext | undefined,
  ): Promise<RateLimitResult> => {
    redisFailed(error, 'limit', key, failureMode !== 'throw')
    if (failureMode === 'throw') throw error
    if (failureMode === 'fail-open' || failureMode === 'fail-closed') {
      const open = failureMode === 'fail-open'
      if (open) counts.failOpenAnswers++
      else counts.failClosedAnswers++
      return answered(key, failureResult(policies, open, failClosedRetryAfterMs), context)
    }
    try {
      const result = await failureMode.limit(key, { cost })
      counts.fallbackAnswers++
      return answered(key, { ...result, reason: 'fallback' }, context)
    } catch (fallbackError) {
      emitter.emit('error', { operation: 'fallback', error: fallbackError, key })
      throw fallbackError
    }
  }

  const check = (
    key: string,
    limitOptions: LimitOptions | undefined,
    context: CheckTraceContext | undefined,
  ): Promise<RateLimitResult> => {
    let cost = 1
    try {
      assertKey(key)
      if (limitOptions?.cost !== undefined) cost = assertCost(limitOptions.cost)
    } catch (error) {
      return Promise.reject(error)
    }
    if (cache) {
      const cached = cache.get(key, cost)
      if (cached) {
        counts.cacheHits++
        return Promise.resolve(answered(key, cached, context))
      }
    }
    const started = monotonicMicros()
    const keys = keysOf(prefix, key, suffixes)
    const args: Array<string | number> =
      limitScript === undefined ? [MODE_LIMIT, cost, deadlineOf(started)] : [cost, deadlineOf(started)]
    const checkWith = limitScript ?? script
    const answer = (reply: CheckReply): RateLimitResult => {
      const result = decodeReply(policies, reply)
      // A block rejects every cost; a limit rejects this cost and larger ones.
      if (cache && !result.allowed) cache.remember(key, result.reason === 'blocked' ? 1 : cost, result)
      return answered(key, result, context)
    }
    const fail = (error: unknown) => failed(error, key, cost, context)
    if (context) context.roundTrips++
    return caller.scriptThen(
      checkWith,
      keys,
      args,
      (reply) => {
        if (reply[0] === 3) return again(checkWith, keys, args, started, reply, context).then(answer, fail)
        clock.observe(reply[1]!)
        return answer(reply)
      },
      fail,
    )
  }

  /** A call whose failure the caller gets (as a rejection), counted. */
  const counted = <T>(promise: Promise<T>, operation: string, key: string): Promise<T> =>
    promise.catch((error: unknown) => {
      redisFailed(error, operation, key, false)
      throw error
    })

  const limit = (key: string, limitOptions?: LimitOptions): Promise<RateLimitResult> => {
    // The hot path: one boolean check when nobody subscribes.
    if (!traceLimit.active) return check(key, limitOptions, undefined)
    const context: CheckTraceContext = { key, cost: limitOptions?.cost ?? 1, roundTrips: 0 }
    return traceLimit.trace(context, () => check(key, limitOptions, context))
  }

  /** Publishes `fn` on `x:ratelimit:<operation>` when someone subscribes. */
  const traced = <T>(operation: string, context: object, fn: () => Promise<T>): Promise<T> => {
    const tracer = tracing.operation(operation)
    return tracer.active ? tracer.trace(context, fn) : fn()
  }

  const inspect = async (
    operation: 'peek' | 'refund',
    key: string,
    mode: number,
    cost: unknown,
  ): Promise<RateLimitResult> => {
    const context: CheckTraceContext = { key, cost: cost as number, roundTrips: 0 }
    return traced(operation, context, async () => {
      assertKey(key)
      assertCost(cost)
      if (mode === MODE_REFUND) cache?.forget(key)
      const result = decodeReply(
        policies,
        await counted(call(key, mode, cost as number, context), operation, key),
      )
      recordOutcome(context, result)
      return result
    })
  }

  return {
    policies,
    limit,
    peek: (key, peekOptions) => inspect('peek', key, MODE_PEEK, peekOptions?.cost ?? 1),
    refund: (key, cost = 1) => inspect('refund', key, MODE_REFUND, cost),
    reset: (key) =>
      traced('reset', { key, roundTrips: 1 }, async () => {
        assertKey(key)
        cache?.forget(key)
        // One UNLINK of keys sharing a hash tag: atomic, one slot, one round trip.
        await counted(
          caller.run(() => redis.unlink(...keysOf(prefix, key, suffixes)), 'ratelimit:reset'),
          'reset',
          key,
        )
      }),
    block: (key, blockMs) =>
      traced('block', { key, blockMs, roundTrips: 1 }, async () => {
        assertKey(key)
        assertDuration('blockMs', blockMs)
        cache?.forget(key)
        await counted(
          caller.script(blockScript, [keysOf(prefix, key, [])[0]!], [Math.ceil(blockMs)]),
          'block',
          key,
        )
      }),
    on: (event, listener) => emitter.on(event, listener),
    stats: () => ({ ...counts, blockedKeys: cache?.size ?? 0 }),
  }
}
