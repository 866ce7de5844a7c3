import type { Emitter } from '@x/redis-core'
import type { RateLimitResult } from './result.js'

/** The counters both limiters keep of their answers. */
export interface DecisionCounts {
  checks: number
  admitted: number
  rejected: number
}

/** Counts one answer of `limit()` and announces a rejection: the same rule for the Redis and the memory limiter. */
export function recordDecision(
  counts: DecisionCounts,
  emitter: Emitter<{ limited: { key: string; result: RateLimitResult } }>,
  key: string,
  result: RateLimitResult,
): RateLimitResult {
  counts.checks++
  if (result.allowed) counts.admitted++
  else {
    counts.rejected++
    if (emitter.has('limited')) emitter.emit('limited', { key, result })
  }
  return result
}
