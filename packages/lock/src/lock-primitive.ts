import type { Keyspace, RedisClient } from '@x/redis-core'
import type { ScriptCaller } from './call.js'
import { QuorumError } from './errors.js'
import type { Attempt, Primitive, ReleaseResult } from './lease-manager.js'
import { assertLockName } from './names.js'
import { fenceRaise } from './scripts/fence-raise.lua.js'
import { fenceSync } from './scripts/fence-sync.lua.js'
import { lockAcquire } from './scripts/lock-acquire.lua.js'
import { lockAcquireWaiting } from './scripts/lock-acquire-waiting.lua.js'
import { lockExtend } from './scripts/lock-extend.lua.js'
import { lockInspect } from './scripts/lock-inspect.lua.js'
import { lockRelease } from './scripts/lock-release.lua.js'
import { lockTransfer } from './scripts/lock-transfer.lua.js'
import { lockTransferOrRelease } from './scripts/lock-transfer-or-release.lua.js'

export interface LockState {
  /** True while someone holds the lock (on a majority of servers, for Redlock). */
  locked: boolean
  /** Remaining ttl in ms; `null` when unlocked, `Infinity` when the key has no expiry. */
  ttlMs: number | null
  /** The last fencing token issued for the resource (0 when none was). */
  fence: number
}

export interface LockKeys {
  /** The resource name, as the caller gave it. */
  resource: string
  /** [lock key, fencing counter key]: same hash tag, so one script may touch both. */
  both: [string, string]
  /** [lock key, fencing counter key, waiters flag]: the acquire of a caller that will wait. */
  waiting: [string, string, string]
  /** [lock key, waiters flag]: the release. */
  release: [string, string]
  lock: [string]
}

export interface LockPrimitive extends Primitive<LockKeys> {
  inspect(keys: LockKeys): Promise<LockState>
  /** Sets the fencing counter to max(counter, floor) (on a majority, for Redlock); the new counter. */
  raiseFence(keys: LockKeys, floor: number): Promise<number>
}

export function lockKeys(keyspace: Keyspace, resource: string): LockKeys {
  // keyspace() would accept a number as a key part; a resource name must be a string.
  assertLockName('resource', resource)
  const lock = keyspace.tagged(resource, 'lock')
  const fence = keyspace.tagged(resource, 'fence')
  const waiters = keyspace.tagged(resource, 'waiters')
  return {
    resource,
    both: [lock, fence],
    waiting: [lock, fence, waiters],
    release: [lock, waiters],
    lock: [lock],
  }
}

/** One script call: the plain acquire, or the one that also announces a wait when busy. */
function acquireOn(
  call: ScriptCaller,
  server: RedisClient,
  keys: LockKeys,
  token: string,
  ttl: number,
  waiting: boolean,
) {
  return waiting
    ? call(server, lockAcquireWaiting, keys.waiting, [token, ttl])
    : call(server, lockAcquire, keys.both, [token, ttl])
}

/** The scripts' busy reply is −1 − pttl: back to the pttl (−1 when the holder has no expiry). */
const pttlOf = (reply: number) => -1 - reply

function releaseResult(reply: number): ReleaseResult {
  return reply === 0 ? false : reply === 2 ? 'notified' : 'silent'
}

/** The mutex over one Redis (or one Cluster): each operation is exactly one script call. */
export function singleLock(
  server: RedisClient,
  keyspace: Keyspace,
  channel: string,
  call: ScriptCaller,
): LockPrimitive {
  return {
    exclusive: true,
    keysOf: (resource) => lockKeys(keyspace, resource),
    notifyKey: (keys) => keys.lock[0],
    async attempt(keys, token, ttl, waiting): Promise<Attempt> {
      const reply = await acquireOn(call, server, keys, token, ttl, waiting)
      return reply > 0 ? { ok: true, fence: reply } : { ok: false, retryInMs: pttlOf(reply) }
    },
    async extend(keys, token, ttl) {
      return (await call(server, lockExtend, keys.lock, [token, ttl])) === 1
    },
    async release(keys, token) {
      return releaseResult(await call(server, lockRelease, keys.release, [token, channel]))
    },
    transfer(keys, from, to, ttl) {
      return call(server, lockTransfer, keys.both, [from, to, ttl])
    },
    transferOrRelease(keys, from, to, ttl) {
      return call(server, lockTransferOrRelease, keys.waiting, [from, to, ttl, channel])
    },
    async inspect(keys) {
      const [pttl, last] = await call(server, lockInspect, keys.both, [])
      return toState(pttl, last)
    },
    async raiseFence(keys, floor) {
      return Number(await call(server, fenceRaise, [keys.both[1]], [floor]))
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

function quorumError(
  what: string,
  resource: string,
  answered: number,
  quorum: number,
  results: Settled<unknown>[],
) {
  const errors = results.flatMap((result) => (result.ok ? [] : [result.error]))
  return new QuorumError(`${what} "${resource}": only ${answered} server(s) answered, ${quorum} needed`, {
    resource,
    answered,
    quorum,
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
  keyspace: Keyspace,
  channel: string,
  call: ScriptCaller,
  report: (resource: string, error: unknown) => void,
): LockPrimitive {
  const quorum = Math.floor(servers.length / 2) + 1

  const releaseOn = (targets: readonly RedisClient[], keys: LockKeys, token: string) =>
    onAll(targets, (server) => call(server, lockRelease, keys.release, [token, channel]))

  const releaseEverywhere = async (keys: LockKeys, token: string) => {
    // Also on servers that did not answer: the SET may have landed after our timeout.
    const results = await releaseOn(servers, keys, token)
    for (const result of results) if (!result.ok) report(keys.lock[0], result.error)
  }

  /**
   * The clean-up before a QuorumError runs in the background: on hung servers it takes a whole
   * call timeout, and the caller has its answer already. Its releases are sent now, so they still
   * precede any later call on the same connections.
   */
  const releaseInBackground = (keys: LockKeys, token: string) => {
    void releaseEverywhere(keys, token)
  }

  return {
    exclusive: true,
    calls: servers.length,
    keysOf: (resource) => lockKeys(keyspace, resource),
    notifyKey: (keys) => keys.lock[0],
    async attempt(keys, token, ttl, waiting): Promise<Attempt> {
      const results = await onAll(servers, (server) => acquireOn(call, server, keys, token, ttl, waiting))
      const taken: Array<{ server: RedisClient; fence: number }> = []
      let busy = 0
      let retryInMs = Number.POSITIVE_INFINITY
      results.forEach((result, index) => {
        if (!result.ok) return
        const reply = result.value
        if (reply > 0) taken.push({ server: servers[index]!, fence: reply })
        else {
          busy += 1
          const pttl = pttlOf(reply)
          if (pttl > 0) retryInMs = Math.min(retryInMs, pttl)
        }
      })
      if (taken.length >= quorum) {
        const max = Math.max(...taken.map((entry) => entry.fence))
        const synced = await onAll(
          taken.map((entry) => entry.server),
          (server) => call(server, fenceSync, [keys.both[1]], [max]),
        )
        const confirmed = synced.filter((result) => result.ok).length
        if (confirmed >= quorum) return { ok: true, fence: max }
        releaseInBackground(keys, token)
        throw quorumError('fence sync', keys.resource, confirmed, quorum, synced)
      }
      if (taken.length + busy < quorum) {
        releaseInBackground(keys, token)
        throw quorumError('acquire', keys.resource, taken.length + busy, quorum, results)
      }
      // Busy on a majority: the caller retries with the same token, so the clean-up finishes first.
      if (taken.length > 0 || busy + taken.length < servers.length) await releaseEverywhere(keys, token)
      return { ok: false, retryInMs: Number.isFinite(retryInMs) ? retryInMs : 0 }
    },
    async extend(keys, token, ttl) {
      const results = await onAll(servers, (server) => call(server, lockExtend, keys.lock, [token, ttl]))
      const extended = results.filter((result) => result.ok && result.value === 1).length
      const notOurs = results.filter((result) => result.ok && result.value !== 1).length
      if (extended >= quorum) return true
      if (notOurs > servers.length - quorum) return false
      throw quorumError('extend', keys.resource, extended + notOurs, quorum, results)
    },
    async release(keys, token) {
      const results = await releaseOn(servers, keys, token)
      const released = results.filter((result) => result.ok && result.value !== 0).length
      const notOurs = results.filter((result) => result.ok && result.value === 0).length
      if (released > 0) {
        for (const result of results) if (!result.ok) report(keys.lock[0], result.error)
        return results.some((result) => result.ok && result.value === 2) ? 'notified' : 'silent'
      }
      if (notOurs >= quorum) return false
      throw quorumError('release', keys.resource, released + notOurs, quorum, results)
    },
    async inspect(keys) {
      const results = await onAll(servers, (server) => call(server, lockInspect, keys.both, []))
      const answered = results.flatMap((result) => (result.ok ? [result.value] : []))
      if (answered.length < quorum)
        throw quorumError('inspect', keys.resource, answered.length, quorum, results)
      const lastFence = Math.max(...answered.map(([, last]) => last))
      const locked = answered.filter(([pttl]) => pttl !== -2)
      if (locked.length < quorum) return { locked: false, ttlMs: null, fence: lastFence }
      const ttls = locked
        .map(([pttl]) => (pttl === -1 ? Number.POSITIVE_INFINITY : pttl))
        .sort((a, b) => a - b)
      // The lock lives as long as a majority still has it: the quorum-th longest ttl.
      return { locked: true, ttlMs: ttls[locked.length - quorum] ?? null, fence: lastFence }
    },
    async raiseFence(keys, floor) {
      // On every server, like the fence sync of an acquire: a majority at or above the floor shares
      // a server with any later majority, whose highest INCR (the next fence) is then above it.
      const results = await onAll(servers, (server) => call(server, fenceRaise, [keys.both[1]], [floor]))
      const raised = results.flatMap((result) => (result.ok ? [Number(result.value)] : []))
      if (raised.length < quorum)
        throw quorumError('raise fence', keys.resource, raised.length, quorum, results)
      return Math.max(...raised)
    },
  }
}
