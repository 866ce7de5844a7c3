import type { Policy } from './policy.js'

/**
 * Why a result is what it is. Absent on an ordinary admission.
 * - `limited`: a policy has no room for this cost right now.
 * - `blocked`: the key was blocked with `block()`.
 * - `cost-exceeds-limit`: the cost is larger than a policy's capacity; it will never be admitted.
 * - `cached`: answered from the in-memory blocked-key cache, without Redis.
 * - `fail-open` / `fail-closed` / `fallback`: Redis failed or was too slow; the configured policy answered.
 */
export type RateLimitReason =
  | 'limited'
  | 'blocked'
  | 'cost-exceeds-limit'
  | 'cached'
  | 'fail-open'
  | 'fail-closed'
  | 'fallback'

export interface PolicyResult {
  readonly name: string
  readonly algorithm: Policy['algorithm']
  /** Configured limit per window. */
  readonly limit: number
  readonly windowMs: number
  /** Cost units that could be spent right now (after this request, when it was admitted). */
  readonly remaining: number
  /** Milliseconds until this policy is back to full capacity if nothing else is spent. */
  readonly resetMs: number
  /** Milliseconds until this policy admits the same cost again; 0 when it admits now. */
  readonly retryAfterMs: number
}

export interface RateLimitResult {
  readonly allowed: boolean
  /** The limit of the most constrained policy (the one with the fewest remaining units). */
  readonly limit: number
  /** The smallest `remaining` over every policy. */
  readonly remaining: number
  /** `resetMs` of the most constrained policy. */
  readonly resetMs: number
  /** When the tightest policy is full again: epoch milliseconds on the Redis server clock (the seed's `resetAt`). */
  readonly resetAt: number
  /**
   * 0 when allowed. Otherwise milliseconds to wait, rounded up: a retry of the same cost after exactly
   * this long is admitted unless others spend the room first. `Infinity` for `cost-exceeds-limit`.
   */
  readonly retryAfterMs: number
  readonly policies: readonly PolicyResult[]
  readonly reason?: RateLimitReason
  /** Epoch milliseconds (fractional) of the decision, on the Redis server clock when Redis decided. */
  readonly now: number
}

/** Picks the most constrained policy and builds the public result. */
export function summarize(
  allowed: boolean,
  policies: PolicyResult[],
  now: number,
  reason: RateLimitReason | undefined,
): RateLimitResult {
  let tightest = policies[0]!
  let retryAfterMs = 0
  for (const policy of policies) {
    if (
      policy.remaining < tightest.remaining ||
      (policy.remaining === tightest.remaining && policy.resetMs > tightest.resetMs)
    ) {
      tightest = policy
    }
    if (policy.retryAfterMs > retryAfterMs) retryAfterMs = policy.retryAfterMs
  }
  const result: {
    -readonly [K in keyof RateLimitResult]: RateLimitResult[K]
  } = {
    allowed,
    limit: tightest.limit,
    remaining: tightest.remaining,
    resetMs: tightest.resetMs,
    resetAt: Math.floor(now) + tightest.resetMs,
    retryAfterMs: allowed ? 0 : retryAfterMs,
    policies,
    now,
  }
  if (reason !== undefined) result.reason = reason
  return result
}
