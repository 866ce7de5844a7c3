import { InvalidArgumentError } from '@x/redis-core'
import { type HeadersOptions, headers } from '../headers.js'
import type { LimitOptions } from '../rate-limiter.js'
import type { RateLimitResult } from '../result.js'

/** Anything with `limit()`: a Redis limiter, a memory limiter or your own wrapper. */
export interface LimiterLike {
  limit(key: string, options?: LimitOptions): Promise<RateLimitResult> | RateLimitResult
}

export interface MiddlewareOptions<Request> {
  limiter: LimiterLike
  /**
   * The limited key. Return `undefined` to skip limiting this request. To key on an address of your
   * own (a proxy header you trust), pass it through `ipKey()` so IPv6 clients are grouped.
   * @default the client address as the framework sees it, through `ipKey()`; `'unknown-client'` when there is none
   */
  key?: (request: Request) => string | undefined | Promise<string | undefined>
  /**
   * Prefix length that groups IPv6 client addresses of the default key into one bucket; `false`
   * keys on the full address. Ignored when `key` is given.
   * @default 56
   */
  ipv6Subnet?: number | false
  /**
   * Units this request costs.
   * @default 1
   */
  cost?: (request: Request) => number | Promise<number>
  /**
   * Header options; `false` sends no rate-limit headers (a 429 still gets `Retry-After`).
   * @default {}
   */
  headers?: HeadersOptions | false
  /**
   * The 429 body. The default is an RFC 9457 problem-details object.
   * @default problemDetails(result)
   */
  body?: (result: RateLimitResult, request: Request) => unknown
}

/** The RFC 9457 problem-details body of a 429 answer. */
export function problemDetails(result: RateLimitResult): Record<string, unknown> {
  const retry = Number.isFinite(result.retryAfterMs) ? Math.ceil(result.retryAfterMs / 1000) : undefined
  return {
    type: 'about:blank',
    title: 'Too Many Requests',
    status: 429,
    detail:
      retry === undefined
        ? 'This request costs more than the rate limit allows.'
        : `Rate limit exceeded; retry in ${Math.max(1, retry)} s.`,
    ...(retry === undefined ? {} : { retryAfter: Math.max(1, retry) }),
  }
}

export const PROBLEM_JSON = 'application/problem+json'

export interface Decision {
  /** Undefined when the request was skipped (no key). */
  result: RateLimitResult | undefined
  headers: Record<string, string>
}

/** Runs the limiter for one request: shared by every adapter. */
export async function decide<Request>(
  options: MiddlewareOptions<Request>,
  request: Request,
  defaultKey: (request: Request) => string,
): Promise<Decision> {
  const key = options.key ? await options.key(request) : defaultKey(request)
  if (key === undefined) return { result: undefined, headers: {} }
  const cost = options.cost ? await options.cost(request) : 1
  const result = await options.limiter.limit(key, { cost })
  let fields: Record<string, string>
  if (options.headers !== false) fields = headers(result, options.headers)
  else {
    fields = {}
    const retryAfter = headers(result, { policy: false })['Retry-After']
    if (retryAfter !== undefined) fields['Retry-After'] = retryAfter
  }
  return { result, headers: fields }
}

export function assertMiddlewareOptions(options: { limiter?: unknown }): void {
  if (typeof (options?.limiter as LimiterLike | undefined)?.limit !== 'function') {
    throw new InvalidArgumentError('the rate-limit middleware needs a limiter with a limit() method')
  }
}
