import type { Emitter, RedisCaller, ServerClock } from '@x/redis-core'
import type { Counters } from './events.js'
import type { InvalidationBus } from './invalidation-bus.js'
import type { LocalCache } from './lru.js'
import type { Settings } from './options.js'
import type { FinishedFlight, Flight } from './single-flight.js'
import type { CacheEvents } from './types.js'

/** State shared by a cache and its namespaces. */
export interface CacheState extends Omit<Settings, 'prefix' | 'l1' | 'redisTimeoutMs'> {
  l1: LocalCache | undefined
  bus: InvalidationBus | undefined
  channel: string
  /** Identifies this instance on the bus, so it ignores its own messages. */
  origin: string
  tagBase: string
  emitter: Emitter<CacheEvents>
  stats: Counters
  /** Every Redis call goes through it: deadline (redisTimeoutMs), mapped errors, coalesced writes. */
  caller: RedisCaller
  /** In-process single-flight: one lookup (read + fetch + write) per key at a time. */
  inflight: Map<string, Flight>
  /** Recently finished fetches and the read epoch at which they finished (see joinOrStart). */
  completed: Map<string, FinishedFlight>
  /** Counts getOrSet reads, to tell whether a read was sent before a fetch finished. */
  readEpoch: number
  /** Keys with a background refresh running, so stale reads start exactly one. */
  refreshing: Set<string>
  /** The Redis server's clock, learned from script replies; freshness is judged on it. */
  clock: ServerClock
  /** Bumped by every invalidation seen here; a fetch that saw it change does not fill L1. */
  invalidationSeq: number
}

/** A cache or one of its namespaces. */
export interface Scope {
  readonly state: CacheState
  /** `prefix:#v:`, followed by the user's key. */
  readonly valuePrefix: string
  /** `prefix:#l:`, followed by the user's key (distributed single-flight). */
  readonly leasePrefix: string
}

export function createScope(state: CacheState, prefix: string): Scope {
  return { state, valuePrefix: `${prefix}:#v:`, leasePrefix: `${prefix}:#l:` }
}
