import type { ErrorEvent } from '@x/redis-core'
import type { AcquireResult } from './concurrency-limiter.js'
import type { RateLimitResult } from './result.js'

export interface RateLimiterEvents {
  [event: string]: unknown
  error: ErrorEvent
  /** A check was rejected (by Redis, the blocked cache, a block, fail-closed or the fallback). */
  limited: { key: string; result: RateLimitResult }
}

export interface ConcurrencyLimiterEvents {
  [event: string]: unknown
  error: ErrorEvent
  /** An acquire found no free slot (or failed closed). */
  limited: { key: string; result: AcquireResult }
}
