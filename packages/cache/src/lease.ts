import { randomBytes } from 'node:crypto'
import { toRedisError } from '@x/redis-core'
import { redisError } from './events.js'
import { classify, isTagged, parse, type Read, readTagged } from './read.js'
import { getRaw } from './redis-calls.js'
import { releaseLeaseScript } from './scripts/lease.lua.js'
import type { CacheState } from './state.js'

// Distributed single-flight: on a miss, the instance holding a short lease fetches; the others poll.

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** SET NX PX under a new token: the token when taken, undefined when someone else holds the lease. */
async function setLease(s: CacheState, leaseKey: string): Promise<string | undefined> {
  const token = randomBytes(12).toString('base64url')
  const reply = await s.deadlines.run(s.redis.set(leaseKey, token, 'PX', s.lease!.ttl, 'NX'), 'lease')
  return reply === 'OK' ? token : undefined
}

/** The lease's token, or undefined when someone else holds it (or Redis failed: reported). */
export async function tryLease(s: CacheState, leaseKey: string, key: string): Promise<string | undefined> {
  try {
    return await setLease(s, leaseKey)
  } catch (error) {
    redisError(s, 'lease', key, error)
    return undefined
  }
}

export function releaseLease(s: CacheState, leaseKey: string, token: string): void {
  s.deadlines
    .run(releaseLeaseScript.run(s.redis, [leaseKey], [token]), 'release lease')
    .catch((error: unknown) => {
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
 * Takes the lease (and the caller fetches), or polls for the holder's result. A waiter whose holder
 * disappears (lease gone, no value) tries to take the lease itself; after twice the lease time it
 * fetches without one, as it does when Redis fails.
 */
export async function acquireOrWait<T>(
  s: CacheState,
  full: string,
  key: string,
  leaseKey: string,
): Promise<{ found: true; value: T } | { found: false; token: string | undefined }> {
  const lease = s.lease!
  const deadline = Date.now() + lease.ttl * 2 + lease.pollInterval
  for (let attempt = 0; attempt < 3; attempt++) {
    let token: string | undefined
    try {
      token = await setLease(s, leaseKey)
    } catch (error) {
      redisError(s, 'lease', key, error)
      return { found: false, token: undefined }
    }
    if (token !== undefined) return { found: false, token }
    while (Date.now() < deadline) {
      await sleep(lease.pollInterval + Math.floor(Math.random() * lease.pollInterval))
      let raw: string | null
      let held: number
      try {
        ;[raw, held] = await Promise.all([
          getRaw(s, full),
          s.deadlines.run(s.redis.exists(leaseKey), 'EXISTS'),
        ])
        // Run in parallel (on Cluster, on two nodes), the GET may have been served before the holder's
        // fill and the EXISTS after its release; a GET sent now comes after both.
        if (held === 0) raw = await getRaw(s, full)
      } catch (error) {
        redisError(s, 'lease wait', key, toRedisError(error))
        return { found: false, token: undefined }
      }
      const read = await readRaw<T>(s, key, raw)
      if (read.state === 'fresh') return { found: true, value: read.value }
      if (held === 0) break
    }
    if (Date.now() >= deadline) break
  }
  return { found: false, token: undefined }
}
