import type { RateLimitResult } from './result.js'

/**
 * What a check's tracing context says happened:
 * - `allowed`: Redis admitted it; `limited`: a policy had no room (or the cost exceeds it);
 * - `blocked`: the key is blocked with `block()`; `blocked-cache`: answered from the in-memory
 *   blocked-key cache, without Redis;
 * - `fail-open` / `fail-closed` / `fallback`: Redis failed or was too slow and the failure mode answered.
 */
export type RateLimitOutcome =
  | 'allowed'
  | 'limited'
  | 'blocked'
  | 'blocked-cache'
  | 'fail-open'
  | 'fail-closed'
  | 'fallback'

/**
 * The context published on `x:ratelimit:limit`, `x:ratelimit:peek` and `x:ratelimit:refund`.
 * Names only: the limited key (a name you chose) and policy names, never a stored value.
 */
export interface CheckTraceContext {
  key: string
  cost: number
  /** Set when the operation settles with a result. */
  outcome?: RateLimitOutcome
  /** Each policy's own outcome (`allowed` or `limited` when Redis decided; else the overall outcome). */
  policies?: Array<{ name: string; outcome: RateLimitOutcome }>
  /** Redis round trips the operation took: 0 from the blocked cache, 2 on a limiter's first call. */
  roundTrips: number
}

export function outcomeOf(result: RateLimitResult): RateLimitOutcome {
  switch (result.reason) {
    case undefined:
      return 'allowed'
    case 'cached':
      return 'blocked-cache'
    case 'cost-exceeds-limit':
      return 'limited'
    default:
      return result.reason
  }
}

/** Writes the outcome of `result` into a tracing context. */
export function recordOutcome(context: CheckTraceContext, result: RateLimitResult): void {
  const outcome = outcomeOf(result)
  context.outcome = outcome
  const decided = outcome === 'allowed' || outcome === 'limited'
  context.policies = result.policies.map((policy) => ({
    name: policy.name,
    outcome: decided ? (policy.retryAfterMs > 0 ? 'limited' : 'allowed') : outcome,
  }))
}
