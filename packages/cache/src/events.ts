import { TimeoutError } from '@x/redis-core'
import { FetchTimeoutError } from './errors.js'
import type { CacheState } from './state.js'
import type { CacheEvents, CacheStats } from './types.js'

// Payloads are only built when someone listens: these run on every hit and miss.

/** The cumulative counters of CacheStats (the gauges are read when stats() is called). */
export type Counters = Omit<CacheStats, 'l1Entries' | 'fetchesInFlight'>

export function emptyStats(): Counters {
  return {
    hits: 0,
    l1Hits: 0,
    misses: 0,
    staleHits: 0,
    fetches: 0,
    fetchErrors: 0,
    fetchTimeouts: 0,
    invalidations: 0,
    corruptEntries: 0,
    refusedWrites: 0,
    redisErrors: 0,
    timeouts: 0,
  }
}

/** An error no caller can receive: the `error` event (core's emitter prints it when nobody listens). */
export function report(s: CacheState, operation: string, error: unknown, key?: string): void {
  s.emitter.emit('error', { operation, error, ...(key === undefined ? {} : { key }) })
}

/** Redis failed or timed out and the operation fell back: counted and reported. */
export function redisError(s: CacheState, operation: string, key: string | undefined, error: unknown): void {
  s.stats.redisErrors++
  if (TimeoutError.isInstance(error)) s.stats.timeouts++
  report(s, operation, error, key)
}

export function l1Hit(s: CacheState, key: string): void {
  s.stats.l1Hits++
  if (s.emitter.has('hit')) s.emitter.emit('hit', { key, layer: 'l1' })
}

export function hit(s: CacheState, key: string): void {
  s.stats.hits++
  if (s.emitter.has('hit')) s.emitter.emit('hit', { key, layer: 'redis' })
}

export function miss(s: CacheState, key: string): void {
  s.stats.misses++
  if (s.emitter.has('miss')) s.emitter.emit('miss', { key })
}

export function served(s: CacheState, key: string, reason: CacheEvents['stale']['reason']): void {
  s.stats.staleHits++
  if (s.emitter.has('stale')) s.emitter.emit('stale', { key, reason })
}

export function refused(s: CacheState, key: string): void {
  s.stats.refusedWrites++
  if (s.emitter.has('writeRefused')) s.emitter.emit('writeRefused', { key })
}

export function invalidated(
  s: CacheState,
  what: { keys?: string[]; tags?: string[]; prefix?: string },
): void {
  s.stats.invalidations++
  if (s.emitter.has('invalidation')) s.emitter.emit('invalidation', { ...what, source: 'local' })
}

export function corrupt(s: CacheState, key: string, error: unknown): void {
  s.stats.corruptEntries++
  if (s.emitter.has('corrupt')) s.emitter.emit('corrupt', { key, error })
}

export function fetchFailed(s: CacheState, key: string, error: unknown, staleServed: boolean): void {
  if (FetchTimeoutError.isInstance(error)) {
    s.stats.fetchTimeouts++
    s.emitter.emit('fetchTimeout', { key, kind: 'hard' })
  } else {
    s.stats.fetchErrors++
    s.emitter.emit('fetchError', { key, error, staleServed })
  }
}
