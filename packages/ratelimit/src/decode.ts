import type { CheckReply } from './check.lua.js'
import type { Policy } from './policy.js'
import { type PolicyResult, type RateLimitResult, summarize } from './result.js'

/**
 * Turns a check reply (`[status, nowMicros, ...per policy (remaining, resetMs, retryAfterMs)]`,
 * status 1 admitted, 0 rejected, 2 blocked with the block's remaining ms third) into a result.
 */
export function decodeReply(policies: readonly Policy[], reply: CheckReply): RateLimitResult {
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

/**
 * The answer of `fail-open` or `fail-closed` when Redis is unavailable. Nothing is known of the
 * budget, so `remaining` is 0 either way: a fail-open answer must not advertise a full quota.
 */
export function failureResult(
  policies: readonly Policy[],
  open: boolean,
  failClosedRetryAfterMs: number,
): RateLimitResult {
  const results = policies.map((policy) => ({
    name: policy.name,
    algorithm: policy.algorithm,
    limit: policy.limit,
    windowMs: policy.windowMs,
    remaining: 0,
    resetMs: 0,
    retryAfterMs: open ? 0 : failClosedRetryAfterMs,
  }))
  return summarize(open, results, Date.now(), open ? 'fail-open' : 'fail-closed')
}
