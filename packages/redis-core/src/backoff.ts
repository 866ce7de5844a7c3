export interface BackoffOptions {
  /** Upper bound of the first delay (attempt 0); each attempt doubles it. */
  initialMs: number
  /** Largest upper bound of a delay. */
  maxMs: number
  /**
   * How the delay is drawn below its bound:
   * - `'full'`: uniformly in [0, bound] (spreads many waiters the most; polls and retries),
   * - `'equal'`: in [bound / 2, bound] (never retries almost at once; reconnects),
   * - `'none'`: always the bound.
   */
  jitter: 'full' | 'equal' | 'none'
}

/**
 * Capped exponential backoff with jitter: the delay before retry number `attempt` (0-based), in
 * milliseconds. Jitter keeps a fleet of clients from retrying in lockstep. `random` is for tests.
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  // 2^30 keeps the product finite for any attempt count; maxMs caps it long before that.
  const bound = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(Math.max(attempt, 0), 30))
  if (options.jitter === 'full') return random() * bound
  if (options.jitter === 'equal') return bound / 2 + random() * (bound / 2)
  return bound
}
