import { createTracing } from '@x/redis-core'

/**
 * What happened, in the `outcome` field of a tracing context:
 * - `hit-l1` / `hit-l2`: a fresh value from the in-process L1 / from Redis;
 * - `miss`: nothing fresh; getOrSet ran the fetcher and stored its result;
 * - `stale`: a stale value was served (stale-while-revalidate, or a soft timeout);
 * - `fail-safe`: the fetcher failed or passed its hard timeout and the stale value was served;
 * - `coalesced`: getOrSet took the result of a fetch already running (here or, with
 *   distributedSingleFlight, in another process);
 * - `bypass`: Redis failed, getOrSet ran the fetcher without the cache;
 * - `written` / `refused`: a write stored its value / found the key changed meanwhile (update);
 * - `deleted` / `absent`: delete found a value / found none.
 */
export type CacheOutcome =
  | 'hit-l1'
  | 'hit-l2'
  | 'miss'
  | 'stale'
  | 'fail-safe'
  | 'coalesced'
  | 'bypass'
  | 'written'
  | 'refused'
  | 'deleted'
  | 'absent'

/** The context published on `x:cache:<operation>`: names and counts, never values. */
export interface CacheTraceContext {
  /** The key (getOrSet, get, has, set, delete, update). */
  key?: string
  /** How many keys (getMany, getOrSetMany, setMany). */
  keys?: number
  /** The tags (invalidateTags). */
  tags?: readonly string[]
  /** The prefix (deleteByPrefix). */
  prefix?: string
  /** Set when the operation ends (single-key operations). */
  outcome?: CacheOutcome
  /** Redis round trips this call waited for (getOrSet, get, has). */
  roundTrips?: number
}

export const tracing = createTracing('cache')
