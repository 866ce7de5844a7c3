import type { AcquireResult } from './concurrency-limiter.js'
import type { RateLimitResult } from './result.js'

/**
 * The `error` event of every @x package: an error that could not be thrown to a caller (here, a
 * Redis failure that the failure mode absorbed, or a fallback limiter's error).
 */
export interface ErrorEvent {
  /** The operation that failed: `limit`, `peek`, `refund`, `acquire`, `fallback`, … */
  operation: string
  error: unknown
  /** The limited key (a name you chose, never a secret). */
  key?: string
}

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
