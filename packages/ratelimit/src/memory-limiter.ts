import { assertPositive, createEmitter, monotonicMicros } from '@x/redis-core'
import { recordDecision } from './decisions.js'
import { assertKey } from './key.js'
import { assertCost, normalizePolicies, type Policy, type PolicyOptions } from './policy.js'
import { type PolicyResult, type RateLimitResult, summarize } from './result.js'

export interface MemoryRateLimiterOptions {
  /** The policies, all or nothing, as for `createRateLimiter`. */
  policies: readonly PolicyOptions[]
  /**
   * Most keys kept; the least recently used key is dropped beyond it (it starts again at full capacity).
   * @default 10000
   */
  maxKeys?: number
  /** Clock in microseconds; tests inject one. @default the monotonic clock */
  clock?: () => number
}

/** The subset of a limiter that `onRedisError` accepts as a fallback. */
export interface FallbackLimiter {
  limit(key: string, options?: { cost?: number }): RateLimitResult | Promise<RateLimitResult>
}

/**
 * Counters since the limiter was created, and a gauge of now. The Redis limiter's Redis-only fields
 * (`redisErrors`, `timeouts`, `cacheHits`, the failure-mode answers) are absent: this limiter never
 * calls Redis, so they could only ever be zero.
 */
export interface MemoryRateLimiterStats {
  /** `limit()` calls answered. */
  checks: number
  /** Checks admitted. */
  admitted: number
  /** Checks rejected (`limited` or `cost-exceeds-limit`). */
  rejected: number
  /** Keys dropped to stay within `maxKeys`; such a key starts again at full capacity. */
  evictions: number
  /** Keys held now. */
  keys: number
}

/**
 * No `error` event: the limiter has no background work, so every failure is thrown to its caller.
 */
export type MemoryRateLimiterEvents = {
  /** A `limit()` check was rejected. */
  limited: { key: string; result: RateLimitResult }
}

export interface MemoryRateLimiter extends FallbackLimiter {
  readonly policies: readonly Policy[]
  limit(key: string, options?: { cost?: number }): RateLimitResult
  peek(key: string, options?: { cost?: number }): RateLimitResult
  refund(key: string, cost?: number): RateLimitResult
  reset(key: string): void
  /** Number of keys held (the `keys` gauge of `stats()`). */
  readonly size: number
  /** Adds a listener (`limited`); returns a function that removes it. */
  on<E extends keyof MemoryRateLimiterEvents>(
    event: E,
    listener: (payload: MemoryRateLimiterEvents[E]) => void,
  ): () => void
  stats(): MemoryRateLimiterStats
}

/** Per-policy state, in microseconds: GCRA keeps a, windows keep (a = window, b = count, c = previous), the log keeps entries. */
interface State {
  a: number
  b: number
  c: number
  log: number[]
}

interface Decision {
  remaining: number
  resetUs: number
  retryUs: number
}

/**
 * The same algorithms as the Redis limiter, in process memory: a per-instance fallback when Redis
 * is unavailable (`onRedisError: createMemoryRateLimiter(...)`), or a limiter for a single process.
 * Limits are per process, so N instances admit up to N times the limit.
 */
export function createMemoryRateLimiter(options: MemoryRateLimiterOptions): MemoryRateLimiter {
  const policies = normalizePolicies(options.policies)
  const maxKeys = assertPositive('maxKeys', options.maxKeys ?? 10_000, { integer: true })
  const clock = options.clock ?? monotonicMicros
  const keys = new Map<string, State[]>()
  const emitter = createEmitter<MemoryRateLimiterEvents>({ name: '@x/ratelimit' })
  const counts = { checks: 0, admitted: 0, rejected: 0, evictions: 0 }

  const stateOf = (key: string, create: boolean): State[] | undefined => {
    let states = keys.get(key)
    if (states) {
      keys.delete(key)
      keys.set(key, states)
      return states
    }
    if (!create) return undefined
    states = policies.map(() => ({ a: 0, b: 0, c: 0, log: [] }))
    keys.set(key, states)
    if (keys.size > maxKeys) {
      keys.delete(oldestKey(keys))
      counts.evictions++
    }
    return states
  }

  const run = (key: string, cost: number, mode: 'limit' | 'peek' | 'refund'): RateLimitResult => {
    assertKey(key)
    assertCost(cost)
    const now = clock()
    const states = stateOf(key, mode !== 'peek') ?? policies.map(() => ({ a: 0, b: 0, c: 0, log: [] }))
    if (mode === 'refund') {
      for (let i = 0; i < policies.length; i++) refundState(policies[i]!, states[i]!, cost, now)
    }
    const before = policies.map((policy, i) => decide(policy, states[i]!, cost, now))
    const allowed = before.every((decision) => decision.retryUs === 0)
    if (allowed && mode === 'limit') {
      for (let i = 0; i < policies.length; i++) consume(policies[i]!, states[i]!, cost, now)
    }
    const after =
      allowed && mode === 'limit' ? policies.map((policy, i) => decide(policy, states[i]!, 0, now)) : before
    const results: PolicyResult[] = policies.map((policy, i) => ({
      name: policy.name,
      algorithm: policy.algorithm,
      limit: policy.limit,
      windowMs: policy.windowMs,
      remaining: after[i]!.remaining,
      resetMs: Math.ceil(after[i]!.resetUs / 1000),
      retryAfterMs: toRetryMs(mode === 'refund' ? 0 : before[i]!.retryUs),
    }))
    const never = results.some((policy) => policy.retryAfterMs === Number.POSITIVE_INFINITY)
    const ok = mode === 'refund' || allowed
    return summarize(ok, results, now / 1000, ok ? undefined : never ? 'cost-exceeds-limit' : 'limited')
  }

  const limit = (key: string, cost: number): RateLimitResult => {
    return recordDecision(counts, emitter, key, run(key, cost, 'limit'))
  }

  return {
    policies,
    limit: (key, limitOptions) => limit(key, limitOptions?.cost ?? 1),
    peek: (key, peekOptions) => run(key, peekOptions?.cost ?? 1, 'peek'),
    refund: (key, cost = 1) => run(key, cost, 'refund'),
    reset: (key) => {
      keys.delete(assertKey(key))
    },
    get size() {
      return keys.size
    },
    on: (event, listener) => emitter.on(event, listener),
    stats: () => ({ ...counts, keys: keys.size }),
  }
}

function toRetryMs(retryUs: number): number {
  if (retryUs < 0) return Number.POSITIVE_INFINITY
  return retryUs === 0 ? 0 : Math.ceil(retryUs / 1000)
}

/** Room left for `cost` now (cost 0 reports the state only). Mirrors the Lua script. */
function decide(policy: Policy, state: State, cost: number, now: number): Decision {
  const window = policy.windowMs * 1000
  const { limit, capacity } = policy
  switch (policy.algorithm) {
    case 'gcra': {
      const interval = window / limit
      const tat = Math.max(state.a, now)
      const remaining = Math.max(0, Math.floor((now - tat) / interval + capacity + 1e-9))
      const allowAt = tat + cost * interval - capacity * interval
      const retryUs = cost > capacity ? -1 : allowAt > now ? allowAt - now : 0
      return { remaining, resetUs: tat - now, retryUs }
    }
    case 'sliding-window': {
      const current = Math.floor(now / window)
      const [count, previous] = shiftWindows(state, current)
      const start = current * window
      const estimate = previous * (1 - (now - start) / window) + count
      const remaining = Math.max(0, Math.floor(limit - estimate + 1e-9))
      const resetUs = count > 0 ? start + 2 * window - now : previous > 0 ? start + window - now : 0
      let retryUs = 0
      if (cost > limit) retryUs = -1
      else if (estimate + cost > limit + 1e-9) {
        retryUs =
          count + cost <= limit
            ? start + window * (1 - (limit - count - cost) / previous) - now + 1
            : start + window + window * (1 - (limit - cost) / count) - now + 1
      }
      return { remaining, resetUs, retryUs }
    }
    case 'fixed-window': {
      const current = Math.floor(now / window)
      const count = state.a === current ? state.b : 0
      const end = (current + 1) * window
      const retryUs = cost > limit ? -1 : count + cost > limit ? end - now : 0
      return { remaining: Math.max(0, limit - count), resetUs: count > 0 ? end - now : 0, retryUs }
    }
    case 'sliding-log': {
      const log = state.log
      const low = now - window
      let first = 0
      while (first < log.length && log[first]! <= low) first++
      if (first > 0) log.splice(0, first)
      const count = log.length
      let retryUs = 0
      if (cost > limit) retryUs = -1
      else if (count + cost > limit) retryUs = log[count + cost - limit - 1]! + window - now
      const resetUs = count > 0 ? log[count - 1]! + window - now : 0
      return { remaining: Math.max(0, limit - count), resetUs, retryUs }
    }
  }
}

function shiftWindows(state: State, current: number): [number, number] {
  if (state.a === current) return [state.b, state.c]
  if (state.a === current - 1) return [0, state.b]
  return [0, 0]
}

function consume(policy: Policy, state: State, cost: number, now: number): void {
  const window = policy.windowMs * 1000
  switch (policy.algorithm) {
    case 'gcra':
      state.a = Math.max(state.a, now) + (cost * window) / policy.limit
      return
    case 'sliding-window': {
      const current = Math.floor(now / window)
      const [count, previous] = shiftWindows(state, current)
      state.a = current
      state.b = count + cost
      state.c = previous
      return
    }
    case 'fixed-window': {
      const current = Math.floor(now / window)
      state.b = (state.a === current ? state.b : 0) + cost
      state.a = current
      return
    }
    case 'sliding-log': {
      const last = state.log[state.log.length - 1] ?? 0
      const base = last >= now ? last + 1 : now
      for (let i = 0; i < cost; i++) state.log.push(base + i)
    }
  }
}

function refundState(policy: Policy, state: State, cost: number, now: number): void {
  const window = policy.windowMs * 1000
  switch (policy.algorithm) {
    case 'gcra':
      state.a = Math.max(now, state.a - (cost * window) / policy.limit)
      return
    case 'sliding-window': {
      const current = Math.floor(now / window)
      const [count, previous] = shiftWindows(state, current)
      const take = Math.min(cost, count)
      state.a = current
      state.b = count - take
      state.c = Math.max(0, previous - (cost - take))
      return
    }
    case 'fixed-window':
      if (state.a === Math.floor(now / window)) state.b = Math.max(0, state.b - cost)
      return
    case 'sliding-log':
      state.log.splice(Math.max(0, state.log.length - cost), cost)
  }
}

/** A Map iterates in insertion order: its first key is the oldest. */
function oldestKey(map: Map<string, unknown>): string {
  for (const [key] of map) return key
  return ''
}
