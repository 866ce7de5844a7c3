import { randomId } from '@x/redis-core'
import { redisError } from './events.js'
import { entryHeader } from './keys.js'
import { classify, isTagged, parse, type Read, readTagged } from './read.js'
import { acquireLeaseScript } from './scripts/acquire-lease.lua.js'
import { releaseLeaseScript } from './scripts/release-lease.lua.js'
import type { CacheState } from './state.js'
import type { CacheTraceContext } from './tracing.js'

// Distributed single-flight: on a miss, the instance holding a short lease fetches; the others poll.
// Taking the lease and checking that the entry is still what the caller read are one script, so a
// value filled between a read and a lease attempt is never fetched a second time.

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** What the caller read: the entry key, its lease key and the entry's header (see entryHeader). */
export interface LeaseTarget {
  full: string
  key: string
  leaseKey: string
  header: string
}

export type LeaseOutcome<T> =
  | { found: true; value: T }
  /** `generation`: what the fill must find, when the entry changed since the caller's read. */
  | { found: false; token: string | undefined; generation?: string }

type Attempt<T> =
  | { kind: 'taken'; token: string }
  | { kind: 'held' }
  | { kind: 'changed'; read: Read<T>; header: string }

async function attempt<T>(s: CacheState, target: LeaseTarget, header: string): Promise<Attempt<T>> {
  // A lease token (21 characters, 126 bits): only its holder can release the lease.
  const token = randomId(21)
  const reply = await s.caller.script(
    acquireLeaseScript,
    [target.full, target.leaseKey],
    [header, token, s.lease!.leaseMs],
  )
  if (reply[0] === 1) return { kind: 'taken', token }
  if (reply[0] === 0) return { kind: 'held' }
  const raw = reply[1] ?? null
  return { kind: 'changed', read: await readRaw<T>(s, target.key, raw), header: entryHeader(raw) }
}

/**
 * Stale-while-revalidate across processes: the lease's token when this instance should refresh,
 * undefined when another one is refreshing or already has (or Redis failed: reported).
 */
export async function tryLease(s: CacheState, target: LeaseTarget): Promise<string | undefined> {
  try {
    const outcome = await attempt(s, target, target.header)
    return outcome.kind === 'taken' ? outcome.token : undefined
  } catch (error) {
    redisError(s, 'lease', target.key, error)
    return undefined
  }
}

export function releaseLease(s: CacheState, leaseKey: string, token: string): void {
  s.caller.script(releaseLeaseScript, [leaseKey], [token]).catch((error: unknown) => {
    // The lease expires by itself; waiters only wait a little longer.
    redisError(s, 'release lease', undefined, error)
  })
}

function readRaw<T>(s: CacheState, key: string, raw: string | null): Read<T> | Promise<Read<T>> {
  const entry = parse(s, key, raw)
  return isTagged(entry)
    ? readTagged<T>(s, key, entry, undefined, undefined)
    : classify<T>(s, key, entry, undefined)
}

/**
 * Takes the lease (and the caller fetches), or polls until the holder's value lands. A holder that
 * disappears (lease gone, no value) frees the lease for the next attempt; after twice the lease time
 * the caller fetches without one, as it does when Redis fails.
 */
export async function acquireOrWait<T>(
  s: CacheState,
  target: LeaseTarget,
  trace: CacheTraceContext | undefined,
): Promise<LeaseOutcome<T>> {
  const lease = s.lease!
  const deadline = performance.now() + lease.leaseMs * 2 + lease.pollIntervalMs
  let header = target.header
  let generation: string | undefined
  for (;;) {
    let outcome: Attempt<T>
    if (trace?.roundTrips !== undefined) trace.roundTrips++
    try {
      outcome = await attempt<T>(s, target, header)
    } catch (error) {
      redisError(s, 'lease', target.key, error)
      return { found: false, token: undefined, ...(generation === undefined ? {} : { generation }) }
    }
    if (outcome.kind === 'taken') {
      return { found: false, token: outcome.token, ...(generation === undefined ? {} : { generation }) }
    }
    if (outcome.kind === 'changed') {
      if (outcome.read.state === 'fresh') return { found: true, value: outcome.read.value }
      // Deleted, invalidated or expired since: compete for the lease on what is there now.
      header = outcome.header
      generation = outcome.read.generation
    }
    if (performance.now() >= deadline) {
      return { found: false, token: undefined, ...(generation === undefined ? {} : { generation }) }
    }
    if (outcome.kind === 'held') {
      await sleep(lease.pollIntervalMs + Math.floor(Math.random() * lease.pollIntervalMs))
    }
  }
}
