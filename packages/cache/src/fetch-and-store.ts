import { buildBody, encodePayload } from './envelope.js'
import { fetchFailed, redisError, refused } from './events.js'
import { withHardTimeout } from './fetch-timeouts.js'
import { checkTags } from './keys.js'
import { keepInL1, storedOf } from './l1-fill.js'
import { checkTtl } from './options.js'
import { learnClock, serverNow } from './redis-calls.js'
import { fillScript } from './scripts/fill.lua.js'
import type { CacheState } from './state.js'
import { pairUp, tagVersions } from './tags.js'
import type { CacheTraceContext } from './tracing.js'
import type { FetchContext, Fetcher, GetOrSetOptions } from './types.js'
import { jittered } from './write.js'

/** One getOrSet fetch: what the read saw, and what the write must compare against. */
export interface FetchJob<T> {
  full: string
  key: string
  fetcher: Fetcher<T>
  options: GetOrSetOptions | undefined
  /** Generation the read saw; the fill only writes if it is still there. */
  generation: string
  tags: string[] | undefined
  /** Tag versions requested before the read; entries are stamped with them. */
  snapshot: Promise<string[]> | undefined
  /** `invalidationSeq` before the read: if it moved, the result does not go into L1. */
  seq: number
  /** Set with distributed single-flight. */
  leaseKey: string | undefined
  /** The entry as the read saw it (see entryHeader): the lease is only taken if it is unchanged. */
  header: string
  /** The caller's tracing context, when someone subscribes. */
  trace: CacheTraceContext | undefined
}

export interface Stale<T> {
  value: T
}

interface ContextHooks {
  skip(): void
  setTtlMs(ttlMs: number): void
  setTags(tags: readonly string[]): void
}

function fetchContext<T>(
  key: string,
  stale: Stale<T> | undefined,
  controller: AbortController,
  hooks: ContextHooks,
): FetchContext<T> {
  return {
    key,
    stale: stale?.value,
    hasStale: stale !== undefined,
    signal: controller.signal,
    skip: hooks.skip,
    setTtlMs: (ttlMs) => hooks.setTtlMs(checkTtl(ttlMs)),
    setTags: (tags) => hooks.setTags(checkTags(tags) ?? []),
  }
}

/** Redis is unavailable: run the fetcher and return its value without touching the cache. */
export async function bypass<T>(
  s: CacheState,
  key: string,
  fetcher: Fetcher<T>,
  options: GetOrSetOptions | undefined,
): Promise<T> {
  const controller = new AbortController()
  let skip = false
  const context = fetchContext<T>(key, undefined, controller, {
    skip: () => {
      skip = true
    },
    setTtlMs: () => {},
    setTags: () => {},
  })
  s.stats.fetches++
  try {
    const value = await withHardTimeout(
      Promise.resolve().then(() => fetcher(context)),
      key,
      options?.hardTimeoutMs ?? s.hardTimeoutMs,
      controller,
    )
    // Same rule as when the cache is up: undefined needs ctx.skip(), so code does not pass only in outages.
    if (value === undefined && !skip) encodePayload(value, s.codec)
    return value
  } catch (error) {
    fetchFailed(s, key, error, false)
    throw error
  }
}

/**
 * Runs the fetcher (hard timeout) and stores its result with a compare-and-set on the generation.
 * Rejects with the fetcher's error, TimeoutError, or EncodeError; Redis write failures are reported.
 */
export function fetchAndStore<T>(s: CacheState, job: FetchJob<T>, stale: Stale<T> | undefined): Promise<T> {
  const { full, key, options } = job
  const controller = new AbortController()
  let skip = false
  let ttl = options?.ttlMs ?? s.ttlMs
  let writeTags = job.tags
  let tagsChanged = false
  const context = fetchContext<T>(key, stale, controller, {
    skip: () => {
      skip = true
    },
    setTtlMs: (value) => {
      ttl = value
    },
    setTags: (value) => {
      writeTags = value.length > 0 ? [...value] : undefined
      tagsChanged = true
    },
  })
  s.stats.fetches++
  // The fetch must start after the tag versions are stamped, or an invalidation that lands in between
  // would be missed. The stamp was sent with the read, so this normally costs no extra wait.
  const stamped = job.snapshot?.then(
    (versions) => versions,
    (error: unknown) => {
      redisError(s, 'tag versions', key, error)
      return undefined
    },
  )
  const fetched = withHardTimeout(
    (stamped ?? Promise.resolve(undefined)).then(() => job.fetcher(context)),
    key,
    options?.hardTimeoutMs ?? s.hardTimeoutMs,
    controller,
  )
  return fetched.then(async (value) => {
    if (skip) return value
    const payload = encodePayload(value, s.codec)
    const grace = options?.graceMs ?? s.graceMs
    let pairs: string[] | undefined
    try {
      if (writeTags) {
        const versions =
          !tagsChanged && stamped ? await stamped : await tagVersions(s, writeTags, ttl + grace)
        // Without a stamp the entry cannot be protected against invalidations: do not store it.
        if (versions === undefined) return value
        pairs = pairUp(writeTags, versions)
      }
      const entryTtl = jittered(s, ttl)
      if (job.trace?.roundTrips !== undefined) job.trace.roundTrips++
      const [written, now] = await s.caller.script(
        fillScript,
        [full],
        [job.generation, entryTtl, grace, buildBody(payload, pairs)],
      )
      learnClock(s, now)
      if (written !== 1) refused(s, key)
      else keepInL1(s, full, storedOf(payload), now + entryTtl - serverNow(s), writeTags, job.seq)
    } catch (error) {
      // The caller still gets the value; the cache just was not filled.
      redisError(s, 'fill', key, error)
    }
    return value
  })
}
