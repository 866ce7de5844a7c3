import { AsyncLocalStorage } from 'node:async_hooks'
import type { Cache } from '@x/cache'

/** How one read was answered, as the page shows it. */
export type CacheOutcome = 'hit-l1' | 'hit-redis' | 'miss' | 'stale' | 'coalesced'

interface ReadState {
  outcome?: CacheOutcome
  /** The fetcher ran in this read's context: this read went to the database. */
  fetched?: boolean
}

const current = new AsyncLocalStorage<ReadState>()

/** Called by a fetcher: the read it runs for went to the database. */
export function noteFetch(): void {
  const read = current.getStore()
  if (read) read.fetched = true
}

/**
 * Turns the cache's events into a per-read outcome. The cache emits them inside the caller's
 * async context, so the listener finds the read they belong to. Every cold read reports a miss;
 * only the one whose context ran the fetcher went to the database, the others waited for it
 * (single-flight): they were coalesced.
 */
export function trackCacheOutcomes(cache: Cache): () => void {
  const note = (outcome: CacheOutcome) => {
    const read = current.getStore()
    if (read && read.outcome === undefined) read.outcome = outcome
  }
  const off = [
    cache.on('hit', ({ layer }) => note(layer === 'l1' ? 'hit-l1' : 'hit-redis')),
    cache.on('miss', () => note('miss')),
    cache.on('stale', () => note('stale')),
  ]
  return () => {
    for (const remove of off) remove()
  }
}

/** Runs one cache read and reports how it was answered. */
export async function withCacheOutcome<T>(
  read: () => Promise<T>,
): Promise<{ value: T; outcome: CacheOutcome }> {
  const state: ReadState = {}
  const value = await current.run(state, read)
  const outcome = state.outcome === 'miss' && !state.fetched ? 'coalesced' : (state.outcome ?? 'coalesced')
  return { value, outcome }
}
