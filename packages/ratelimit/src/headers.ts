import type { RateLimitResult } from './result.js'

export interface HeadersOptions {
  /**
   * Send `RateLimit-Policy` (each policy's quota and window).
   * @default true
   */
  policy?: boolean
  /**
   * Send `Retry-After` (delay-seconds, rounded up) on rejections.
   * @default true
   */
  retryAfter?: boolean
  /**
   * Also send the legacy `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`.
   * @default false
   */
  legacy?: boolean
  /**
   * What `X-RateLimit-Reset` carries: seconds from now (as GitHub's successors and the IETF draft
   * do) or an epoch timestamp in seconds (as GitHub does).
   * @default 'delta-seconds'
   */
  legacyReset?: 'delta-seconds' | 'epoch-seconds'
}

const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000))

/**
 * HTTP response fields for a result, per the IETF draft (draft-ietf-httpapi-ratelimit-headers-09):
 * `RateLimit: "second";r=0;t=1, "day";r=941;t=50000` lists every policy's remaining units and
 * seconds until it is full again; `RateLimit-Policy: "second";q=10;w=1, "day";q=1000;w=86400`
 * lists quota and window. Policy names are restricted to characters that need no escaping.
 * A `fail-open` result sends only `RateLimit-Policy`: its remaining budget is unknown.
 */
export function headers(result: RateLimitResult, options: HeadersOptions = {}): Record<string, string> {
  const fields: Record<string, string> = {}
  // A fail-open answer knows nothing of the budget: any remaining count would be made up (a full
  // one invites clients to spend it all while Redis is down), so only the static policy is sent.
  const known = result.reason !== 'fail-open'
  if (known) {
    fields.RateLimit = result.policies
      .map((policy) => `"${policy.name}";r=${policy.remaining};t=${seconds(policy.resetMs)}`)
      .join(', ')
  }
  if (options.policy !== false) {
    fields['RateLimit-Policy'] = result.policies
      .map((policy) => `"${policy.name}";q=${policy.limit};w=${seconds(policy.windowMs)}`)
      .join(', ')
  }
  if (options.retryAfter !== false && !result.allowed && Number.isFinite(result.retryAfterMs)) {
    fields['Retry-After'] = String(Math.max(1, seconds(result.retryAfterMs)))
  }
  if (options.legacy && known) {
    fields['X-RateLimit-Limit'] = String(result.limit)
    fields['X-RateLimit-Remaining'] = String(result.remaining)
    fields['X-RateLimit-Reset'] = String(
      options.legacyReset === 'epoch-seconds' ? Math.ceil(result.resetAt / 1000) : seconds(result.resetMs),
    )
  }
  return fields
}
