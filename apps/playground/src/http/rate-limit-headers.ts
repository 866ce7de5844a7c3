import type { RateLimitResult } from '@x/ratelimit'

/**
 * The IETF draft fields (draft-ietf-httpapi-ratelimit-headers): `RateLimit-Policy` lists every
 * policy (quota and window in seconds), `RateLimit` reports the most constrained one (remaining and
 * seconds to reset), and `Retry-After` (rounded up) comes with a refusal.
 */
export function rateLimitHeaders(result: RateLimitResult): Record<string, string> {
  const headers: Record<string, string> = {}
  if (result.policies.length === 0) return headers
  headers['RateLimit-Policy'] = result.policies
    .map((policy) => `"${policy.name}";q=${policy.limit};w=${Math.ceil(policy.windowMs / 1000)}`)
    .join(', ')
  const tightest = result.policies.reduce((a, b) => (b.remaining < a.remaining ? b : a))
  headers.RateLimit = `"${tightest.name}";r=${Math.max(0, Math.floor(tightest.remaining))};t=${Math.ceil(tightest.resetMs / 1000)}`
  if (!result.allowed && Number.isFinite(result.retryAfterMs)) {
    headers['Retry-After'] = String(Math.max(1, Math.ceil(result.retryAfterMs / 1000)))
  }
  return headers
}
