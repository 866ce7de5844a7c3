export interface BackoffOptions {
  /**
   * Upper bound of the first retry delay; each retry doubles it.
   * @default 25
   */
  initialMs?: number
  /**
   * Largest upper bound of a retry delay.
   * @default 1000
   */
  maxMs?: number
  /**
   * `'full'`: a delay uniformly drawn in [0, bound] (AWS "full jitter"); `'none'`: always the bound.
   * @default 'full'
   */
  jitter?: 'full' | 'none'
}

/**
 * Delay before poll number `attempt` (0-based). Full jitter spreads the polls of many waiters so
 * they do not hit Redis in lockstep; the release notification does the fast wake-ups, the poll is
 * only the safety net for a lost notification or an expired holder.
 */
export function retryDelay(
  attempt: number,
  backoff: Required<BackoffOptions>,
  random: () => number = Math.random,
): number {
  const bound = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(attempt, 30))
  return backoff.jitter === 'full' ? random() * bound : bound
}
