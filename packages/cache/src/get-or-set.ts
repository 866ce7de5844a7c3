import { EncodeError, InvalidArgumentError } from '@x/redis-core'
import { FetchTimeoutError } from './errors.js'
import { fetchFailed, hit, l1Hit, miss, redisError, report, served } from './events.js'
import { bypass, type FetchJob, fetchAndStore, type Stale } from './fetch-and-store.js'
import { waitAtMost } from './fetch-timeouts.js'
import { checkKey, checkTags, entryHeader } from './keys.js'
import { keepInL1 } from './l1-fill.js'
import { acquireOrWait, releaseLease, tryLease } from './lease.js'
import { leaseKeyOf } from './lease-key.js'
import { checkGetOrSetOptions } from './options.js'
import { classify, isTagged, parse, readTagged, wrongType } from './read.js'
import { getRaw, isWrongType, serverNow } from './redis-calls.js'
import { joinOrStart } from './single-flight.js'
import type { CacheState, Scope } from './state.js'
import { tagNames, tagVersions } from './tags.js'
import type { CacheTraceContext } from './tracing.js'
import type { Fetcher, GetOrSetOptions } from './types.js'

export function getOrSet<T>(
  scope: Scope,
  key: string,
  fetcher: Fetcher<T>,
  options: GetOrSetOptions | undefined,
  trace: CacheTraceContext | undefined,
): Promise<T> {
  const s = scope.state
  // All input is checked before any lookup, and a bad one rejects: an L1 hit must not hide it.
  let full: string
  let tags: string[] | undefined
  try {
    full = scope.valuePrefix + checkKey(key)
    if (typeof fetcher !== 'function') throw new InvalidArgumentError('fetcher must be a function')
    if (options !== undefined) checkGetOrSetOptions(options)
    tags = checkTags(options?.tags)
  } catch (error) {
    return Promise.reject(error)
  }
  if (s.l1 !== undefined) {
    const local = s.l1.get(full, performance.now())
    if (local !== undefined) {
      l1Hit(s, key)
      if (trace) {
        trace.outcome = 'hit-l1'
        trace.roundTrips = 0
      }
      return Promise.resolve(local.value as T)
    }
  }
  return lookup(scope, full, key, fetcher, options, tags, trace)
}

/** A hit is one GET and one await; what a fetch needs is only built after a miss. */
async function lookup<T>(
  scope: Scope,
  full: string,
  key: string,
  fetcher: Fetcher<T>,
  options: GetOrSetOptions | undefined,
  tags: string[] | undefined,
  trace: CacheTraceContext | undefined,
): Promise<T> {
  const s = scope.state
  const seq = s.invalidationSeq
  const readEpoch = ++s.readEpoch
  // Stamp the tags before the read, in parallel with it: the read stays one round trip, and a tag
  // invalidation during the fetch makes the stored entry a miss.
  let snapshot: Promise<string[]> | undefined
  if (tags) {
    snapshot = tagVersions(s, tags, (options?.ttlMs ?? s.ttlMs) + (options?.graceMs ?? s.graceMs))
    snapshot.catch(() => {})
  }
  let raw: string | null
  if (trace) trace.roundTrips = 1
  try {
    raw = await getRaw(s, full)
  } catch (error) {
    if (isWrongType(error)) raw = wrongType(s, key, error)
    else {
      redisError(s, 'getOrSet', key, error)
      if (trace) trace.outcome = 'bypass'
      return await joinOrStart(s, full, readEpoch, '', trace, () => bypass(s, key, fetcher, options))
    }
  }
  const entry = parse(s, key, raw)
  const read = isTagged(entry)
    ? await readTagged<T>(s, key, entry, tags, snapshot)
    : classify<T>(s, key, entry, undefined)
  if (read.state === 'fresh') {
    hit(s, key)
    keepInL1(s, full, read.stored!, read.freshUntil - serverNow(s), tagNames(read.tags), seq)
    if (trace) trace.outcome = 'hit-l2'
    return read.value
  }
  const job: FetchJob<T> = {
    full,
    key,
    fetcher,
    options,
    generation: read.generation,
    tags,
    snapshot,
    seq,
    leaseKey: s.lease ? leaseKeyOf(scope, key) : undefined,
    header: entryHeader(raw),
    trace,
  }
  if (read.state === 'stale' && s.staleWhileRevalidate) {
    served(s, key, 'revalidate')
    if (trace) trace.outcome = 'stale'
    refreshInBackground(s, { ...job, trace: undefined })
    return read.value
  }
  if (read.state === 'miss') miss(s, key)
  const stale = read.state === 'stale' ? { value: read.value } : undefined
  return await joinOrStart(s, full, readEpoch, read.generation, trace, () => fetchForeground(s, job, stale))
}

/** Fetches for a caller who waits: soft timeout and fail-safe serve the stale value when there is one. */
async function fetchForeground<T>(s: CacheState, job: FetchJob<T>, stale: Stale<T> | undefined): Promise<T> {
  const { key, leaseKey, trace } = job
  let token: string | undefined
  let fill = job
  if (trace) trace.outcome = 'miss'
  if (leaseKey !== undefined) {
    const outcome = await acquireOrWait<T>(s, { full: job.full, key, leaseKey, header: job.header }, trace)
    if (outcome.found) {
      if (trace) trace.outcome = 'coalesced'
      return outcome.value
    }
    token = outcome.token
    if (outcome.generation !== undefined) fill = { ...job, generation: outcome.generation }
  }
  const work = fetchAndStore(s, fill, stale)
  if (token !== undefined) {
    const release = () => releaseLease(s, leaseKey!, token)
    work.then(release, release)
  }
  const soft = job.options?.softTimeoutMs ?? s.softTimeoutMs
  try {
    if (stale !== undefined && soft !== undefined) {
      const outcome = await waitAtMost(work, soft)
      if (outcome === waitAtMost.PENDING) {
        s.stats.fetchTimeouts++
        s.emitter.emit('fetchTimeout', { key, kind: 'soft' })
        served(s, key, 'soft-timeout')
        if (trace) trace.outcome = 'stale'
        // The fetch keeps running and fills the cache; its failure can only be reported.
        work.catch((error: unknown) => {
          fetchFailed(s, key, error, true)
          report(s, 'refresh', error)
        })
        return stale.value
      }
      return outcome
    }
    return await work
  } catch (error) {
    // An unencodable result is a bug in the fetcher, not an outage: it must surface.
    const serveStale = stale !== undefined && !EncodeError.isInstance(error)
    fetchFailed(s, key, error, serveStale)
    if (!serveStale) throw error
    served(s, key, FetchTimeoutError.isInstance(error) ? 'hard-timeout' : 'fetch-error')
    if (trace) trace.outcome = 'fail-safe'
    return stale.value
  }
}

/** Stale-while-revalidate: one refresh per key at a time, in this process and (with a lease) across them. */
function refreshInBackground<T>(s: CacheState, job: FetchJob<T>): void {
  const { full, key, leaseKey } = job
  if (s.refreshing.has(full)) return
  s.refreshing.add(full)
  void (async () => {
    let token: string | undefined
    try {
      if (leaseKey !== undefined) {
        token = await tryLease(s, { full, key, leaseKey, header: job.header })
        // Another instance is refreshing this key; its result will land in Redis.
        if (token === undefined) return
      }
      await fetchAndStore(s, job, undefined)
    } catch (error) {
      fetchFailed(s, key, error, true)
    } finally {
      s.refreshing.delete(full)
      if (token !== undefined) releaseLease(s, leaseKey!, token)
    }
  })()
}
