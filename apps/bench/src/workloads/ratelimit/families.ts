import type { ContenderFactory } from '../../harness/types.js'

/**
 * What every rate-limit family provides. Each method builds one contender; the scenario shapes are
 * fixed here so both sides run the same key pattern:
 * - allowed: limits too high to bite, keys k0..k999 in turn;
 * - blocked: 9 calls in 10 hit one of 100 keys exhausted beforehand (10 per hour), 1 in 10 a fresh
 *   key, so 90 % of calls are refused; with or without the family's in-memory blocked-key cache;
 * - twoPolicies: two limits checked together (per second and per day), all allowed, 1k keys.
 */
export interface RateLimitFamily {
  allowed: ContenderFactory
  blocked(memoryCache: boolean): ContenderFactory
  twoPolicies: ContenderFactory
}

export const KEY_COUNT = 1000
export const BLOCKED_KEYS = 100
export const BLOCKED_LIMIT = 10
export const HUGE_LIMIT = 1_000_000_000
/** Per-second policy of the two-policy scenario: far above what one key of 1k ever sees. */
export const PER_SECOND_LIMIT = 1_000_000

export const allowedKey = (iteration: number) => `k${iteration % KEY_COUNT}`

/** For the blocked scenario: the key of call `iteration`, and whether it is one of the exhausted ones. */
export function blockedPattern(): (iteration: number) => string {
  let fresh = 0
  return (iteration) => (iteration % 10 === 0 ? `fresh${fresh++}` : `b${iteration % BLOCKED_KEYS}`)
}

export function exhaustedKeys(): string[] {
  return Array.from({ length: BLOCKED_KEYS }, (_, index) => `b${index}`)
}
