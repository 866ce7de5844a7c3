import { assertName, type Keyspace, type RedisClient } from '@x/redis-core'
import { runScript } from './call.js'
import { QuorumError } from './errors.js'
import type { Attempt, Primitive } from './lease-manager.js'
import { fenceSync } from './scripts/fence-sync.lua.js'
import { lockAcquire } from './scripts/lock-acquire.lua.js'
import { lockExtend } from './scripts/lock-extend.lua.js'
import { lockInspect } from './scripts/lock-inspect.lua.js'
import { lockRelease } from './scripts/lock-release.lua.js'

export interface LockState {
  /** True while someone holds the lock (on a majority of servers, for Redlock). */
  locked: boolean
  /** Remaining ttl in ms; `null` when unlocked, `Infinity` when the key has no expiry. */
  ttlMs: number | null
  /** The last fencing token issued for the resource (0 when none was). */
  fence: number
}

export interface LockPrimitive extends Primitive {
  inspect(resource: string): Promise<LockState>
}

export interface LockKeys {
  lock: string
  fence: string
}

export function lockKeys(keys: Keyspace, resource: string): LockKeys {
  // keyspace() would accept a number as a key part; a resource name must be a string.
  assertName('resource', resource, 1024)
  return { lock: keys.tagged(resource, 'lock'), fence: keys.tagged(resource, 'fence') }
}

/**
 * The mutex over one Redis (or one Cluster): each operation is exactly one script call.
 */
export function singleLock(
  server: RedisClient,
  keys: Keyspace,
  channel: string,
  timeoutMs: number,
): LockPrimitive {
  return {
    notifyKey: (resource) => lockKeys(keys, resource).lock,
    async attempt(resource, token, ttl): Promise<Attempt> {
      const { lock, fence } = lockKeys(keys, resource)
      const [taken, value] = await runScript(lockAcquire, server, [lock, fence], [token, ttl], timeoutMs)
      return taken === 1 ? { ok: true, fence: value } : { ok: false, retryInMs: value }
    },
    async extend(resource, token, ttl) {
      const { lock } = lockKeys(keys, resource)
      return (await runScript(lockExtend, server, [lock], [token, ttl], timeoutMs)) === 1
    },
    async release(resource, token) {
      const { lock } = lockKeys(keys, resource)
      return (await runScript(lockRelease, server, [lock], [token, channel], timeoutMs)) === 1
    },
    async inspect(resource) {
      const { lock, fence } = lockKeys(keys, resource)
      const [pttl, last] = await runScript(lockInspect, server, [lock, fence], [], timeoutMs)
      return toState(pttl, last)
    },
  }
}

function toState(pttl: number, fence: number): LockState {
  if (pttl === -2) return { locked: false, ttlMs: null, fence }
  return { locked: true, ttlMs: pttl === -1 ? Number.POSITIVE_INFINITY : pttl, fence }
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown }

async function onAll<T>(servers: readonly RedisClient[], run: (server: RedisClient) => Promise<T>) {
  return Promise.all(
    servers.map((server) =>
      run(server).then(
        (value): Settled<T> => ({ ok: true, value }),
        (error: unknown): Settled<T> => ({ ok: false, error }),
      ),
    ),
  )
}

function quorumError(what: string, answered: number, quorum: number, results: Settled<unknown>[]) {
  const errors = results.flatMap((result) => (result.ok ? [] : [result.error]))
  return new QuorumError(`${what}: only ${answered} server(s) answered, ${quorum} needed`, {
    cause: new AggregateError(errors, 'server errors'),
  })
}

/**
 * Redlock over independent servers (not replicas of each other): an operation counts when a
 * majority agrees. The fencing token is the highest counter of the majority, and the majority's
 * counters are raised to it before the lease is handed out, which keeps tokens strictly increasing
 * across any two majorities (they always share a server).
 */
export function quorumLock(
  servers: readonly RedisClient[],
  keys: Keyspace,
  channel: string,
  timeoutMs: number,
  report: (resource: string, error: unknown) => void,
): LockPrimitive {
  const quorum = Math.floor(servers.length / 2) + 1

  const releaseOn = (targets: readonly RedisClient[], resource: string, token: string) => {
    const { lock } = lockKeys(keys, resource)
    return onAll(targets, (server) => runScript(lockRelease, server, [lock], [token, channel], timeoutMs))
  }

  const releaseEverywhere = async (resource: string, token: string) => {
    // Also on servers that did not answer: the SET may have landed after our timeout.
    const results = await releaseOn(servers, resource, token)
    for (const result of results) if (!result.ok) report(resource, result.error)
  }

  return {
    notifyKey: (resource) => lockKeys(keys, resource).lock,
    async attempt(resource, token, ttl): Promise<Attempt> {
      const { lock, fence } = lockKeys(keys, resource)
      const results = await onAll(servers, (server) =>
        runScript(lockAcquire, server, [lock, fence], [token, ttl], timeoutMs),
      )
      const taken: Array<{ server: RedisClient; fence: number }> = []
      let busy = 0
      let retryInMs = Number.POSITIVE_INFINITY
      results.forEach((result, index) => {
        if (!result.ok) return
        const [won, value] = result.value
        if (won === 1) taken.push({ server: servers[index]!, fence: value })
        else {
          busy += 1
          if (value > 0) retryInMs = Math.min(retryInMs, value)
        }
      })
      if (taken.length >= quorum) {
        const max = Math.max(...taken.map((entry) => entry.fence))
        const synced = await onAll(
          taken.map((entry) => entry.server),
          (server) => runScript(fenceSync, server, [fence], [max], timeoutMs),
        )
        if (synced.filter((result) => result.ok).length >= quorum) return { ok: true, fence: max }
        await releaseEverywhere(resource, token)
        throw quorumError('fence sync', synced.filter((result) => result.ok).length, quorum, synced)
      }
      if (taken.length > 0 || busy + taken.length < servers.length) await releaseEverywhere(resource, token)
      if (taken.length + busy < quorum) throw quorumError('acquire', taken.length + busy, quorum, results)
      return { ok: false, retryInMs: Number.isFinite(retryInMs) ? retryInMs : 0 }
    },
    async extend(resource, token, ttl) {
      const { lock } = lockKeys(keys, resource)
      const results = await onAll(servers, (server) =>
        runScript(lockExtend, server, [lock], [token, ttl], timeoutMs),
      )
      const extended = results.filter((result) => result.ok && result.value === 1).length
      const notOurs = results.filter((result) => result.ok && result.value !== 1).length
      if (extended >= quorum) return true
      if (notOurs > servers.length - quorum) return false
      throw quorumError('extend', extended + notOurs, quorum, results)
    },
    async release(resource, token) {
      const results = await releaseOn(servers, resource, token)
      const released = results.filter((result) => result.ok && result.value === 1).length
      const notOurs = results.filter((result) => result.ok && result.value !== 1).length
      if (released > 0) {
        for (const result of results) if (!result.ok) report(resource, result.error)
        return true
      }
      if (notOurs >= quorum) return false
      throw quorumError('release', released + notOurs, quorum, results)
    },
    async inspect(resource) {
      const { lock, fence } = lockKeys(keys, resource)
      const results = await onAll(servers, (server) =>
        runScript(lockInspect, server, [lock, fence], [], timeoutMs),
      )
      const answered = results.flatMap((result) => (result.ok ? [result.value] : []))
      if (answered.length < quorum) throw quorumError('inspect', answered.length, quorum, results)
      const lastFence = Math.max(...answered.map(([, last]) => last))
      const locked = answered.filter(([pttl]) => pttl !== -2)
      if (locked.length < quorum) return { locked: false, ttlMs: null, fence: lastFence }
      const ttls = locked
        .map(([pttl]) => (pttl === -1 ? Number.POSITIVE_INFINITY : pttl))
        .sort((a, b) => a - b)
      // The lock lives as long as a majority still has it: the quorum-th longest ttl.
      return { locked: true, ttlMs: ttls[locked.length - quorum] ?? null, fence: lastFence }
    },
  }
}
