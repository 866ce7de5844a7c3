// One concept in one file (~400 lines): the life of a lease request — options, the first attempt,
// standing in line, sleeping until a release, a hand-off or the poll, the validity rule, the
// watchdog of withLock and the tracing of each. The wait loop, the hand-off and the local-holder
// bookkeeping share the line's state; split, each part would reach into the others'.
import {
  assertDuration,
  type BackoffOptions,
  backoffDelay,
  type Emitter,
  InvalidArgumentError,
  randomId,
} from '@x/redis-core'
import { LockLostError, LockNotHeldError, LockTimeoutError } from './errors.js'
import { LeaseImpl, type LeaseOperations } from './lease.js'
import type { Grant, ReleaseNotifier } from './release-notifier.js'
import type { LockCounters } from './stats.js'
import { type LockKind, type LockTraceContext, traced, tracing } from './tracing.js'
import { assertTtl } from './ttl.js'
import type { AcquireOptions, Lease, LockEvents, WithLockOptions } from './types.js'
import { startWatchdog } from './watchdog.js'

export type Attempt = { ok: true; fence: number } | { ok: false; retryInMs: number }

/**
 * `false`: the lock was no longer ours. `'notified'`: released, and Redis published the release to
 * the waiters. `'silent'`: released without a publish (no waiter had announced itself), so waiters
 * of this process that never reached Redis (queued behind a local one) are woken here.
 */
export type ReleaseResult = false | 'notified' | 'silent'

/**
 * What differs between a mutex, a semaphore and Redlock: the keys and the scripts. `K` is the
 * resource's validated keys, computed once per acquisition.
 */
export interface Primitive<K> {
  /** Validates the resource (InvalidArgumentError) and builds its keys. */
  keysOf(resource: string): K
  /** The key releases are published with. */
  notifyKey(keys: K): string
  /** `waiting`: the caller stands in line and will wait, so a busy lock may record that it waits. */
  attempt(keys: K, token: string, ttl: number, waiting: boolean): Promise<Attempt>
  extend(keys: K, token: string, ttl: number): Promise<boolean>
  release(keys: K, token: string): Promise<ReleaseResult>
  /**
   * Releases `from` and grants the lock to `to` in one call (new fence), or returns 0 when `from`
   * no longer held it. Optional: without it (Redlock), a release always goes through Redis.
   */
  transfer?(keys: K, from: string, to: string, ttl: number): Promise<number>
  /**
   * The hand-off past `handoffLimit`: like `transfer` while no other waiter announced itself; else
   * releases and publishes (returns −1), so that every waiter competes. Optional: without it, a
   * release past the limit always goes through Redis.
   */
  transferOrRelease?(keys: K, from: string, to: string, ttl: number): Promise<number>
  /** One holder at a time (mutex, Redlock): waiters may sleep until a local holder's lease ends. */
  readonly exclusive: boolean
  /** Script calls per attempt, for the tracing context's `roundTrips` (Redlock: one per server). @default 1 */
  readonly calls?: number
}

export interface ManagerSettings {
  ttlMs: number
  waitMs: number
  backoff: BackoffOptions
  driftFactor: number
  handoffLimit: number
}

/** What every lease manager of one instance shares. */
export interface ManagerContext {
  /** Published in the tracing context. */
  kind: LockKind
  notifier: ReleaseNotifier
  emitter: Emitter<LockEvents>
  settings: ManagerSettings
  counters: LockCounters
}

export interface LeaseManager {
  acquire(resource: string, options?: AcquireOptions): Promise<Lease>
  tryAcquire(resource: string, options?: Pick<AcquireOptions, 'ttlMs'>): Promise<Lease | null>
  withLease<T>(
    resource: string,
    fn: (signal: AbortSignal, lease: Lease) => Promise<T> | T,
    options?: WithLockOptions,
  ): Promise<T>
}

/** Lease tokens: 126 random bits, an unguessable proof of ownership. */
const TOKEN_SIZE = 21

/** How long a first contended wait may spend subscribing before it falls back to polling alone. */
const SUBSCRIBE_WAIT_MS = 1000

export function createLeaseManager<K>(primitive: Primitive<K>, context: ManagerContext): LeaseManager {
  const { notifier, emitter, settings, counters, kind } = context
  /** Redis calls per attempt: one per server (Redlock asks them all). */
  const callsPerAttempt = primitive.calls ?? 1
  const drift = (ttl: number) => Math.floor(ttl * settings.driftFactor) + 2
  /** Consecutive local hand-offs per key, bounded so other processes get their turn. */
  const handoffs = new Map<string, number>()
  /**
   * Exclusive primitives: the lease this instance holds per key. Its waiters need not poll while it
   * lives: it will hand off, or release (which wakes them here), or expire (their sleep ends then).
   */
  const localHolders = new Map<string, LeaseImpl<K>>()

  const forgetHolder = (key: string, token: string) => {
    if (localHolders.get(key)?.token === token) localHolders.delete(key)
  }

  /**
   * The plain release through Redis. When Redis published nothing, a local waiter is woken here
   * (`wakeLocal`), unless the releasing caller is itself still in line (a born-invalid lease): it
   * retries on its own, and waking it would only wake itself.
   */
  const releaseInRedis = async (keys: K, token: string, wakeLocal: boolean): Promise<boolean> => {
    const result = await primitive.release(keys, token)
    if (result === 'silent' && wakeLocal) {
      const key = primitive.notifyKey(keys)
      if (notifier.waiting(key) > 0) notifier.wake(key)
    }
    return result !== false
  }

  const cleanup = (keys: K, token: string, resource: string, wakeLocal: boolean) =>
    releaseInRedis(keys, token, wakeLocal).catch((error: unknown) => {
      emitter.emit('error', { operation: 'cleanup', error, key: resource })
      return false
    })

  const release = async (keys: K, token: string): Promise<boolean> => {
    const key = primitive.notifyKey(keys)
    forgetHolder(key, token)
    if (primitive.transfer && settings.handoffLimit > 0) {
      const count = handoffs.get(key) ?? 0
      // Past the limit, hand-offs go on only while nobody else announced a wait (checked by Redis).
      const limited = count >= settings.handoffLimit
      const claim =
        (!limited || primitive.transferOrRelease) && notifier.waiting(key) > 0
          ? notifier.claim(key)
          : undefined
      if (claim) {
        const grant: Grant = { fence: 0, started: performance.now() }
        try {
          grant.fence = limited
            ? await primitive.transferOrRelease!(keys, token, claim.token, claim.ttl)
            : await primitive.transfer(keys, token, claim.token, claim.ttl)
        } catch (error) {
          claim.cancel()
          throw error
        }
        if (grant.fence <= 0) {
          // −1: released and published; the next local waiter competes with the others, woken by
          // the message (or by cancel, when the message came while it was reserved).
          claim.cancel()
          if (grant.fence === 0) return false
          handoffs.delete(key)
          return true
        }
        handoffs.set(key, limited ? 0 : count + 1)
        counters.handoffs += 1
        // The waiter gave up while the transfer was in flight: give the lock back to everyone.
        if (!claim.deliver(grant)) await cleanup(keys, claim.token, key, true)
        return true
      }
      handoffs.delete(key)
    }
    return releaseInRedis(keys, token, true)
  }

  const operations: LeaseOperations<K> = {
    extend: (keys, token, ttl) => primitive.extend(keys, token, ttl),
    release,
    drift,
    emitter,
    counters,
    kind,
    calls: callsPerAttempt,
  }

  /**
   * The validity rule: a lease whose ttl − elapsed − drift is ≤ 0 is released again instead of
   * being handed out (the caller could not use it safely). Returns undefined in that case.
   */
  const lease = async (
    resource: string,
    keys: K,
    token: string,
    ttl: number,
    fence: number,
    started: number,
  ): Promise<Lease | undefined> => {
    const validity = ttl - (performance.now() - started) - drift(ttl)
    if (validity <= 0) {
      await cleanup(keys, token, resource, false)
      return undefined
    }
    const granted = new LeaseImpl(resource, token, fence, ttl, started + ttl - drift(ttl), keys, operations)
    if (primitive.exclusive) {
      const key = primitive.notifyKey(keys)
      // Only worth remembering while someone here waits for it (the map stays small).
      if (notifier.waiting(key) > 0) localHolders.set(key, granted)
    }
    return granted
  }

  const attemptOnce = async (
    resource: string,
    keys: K,
    token: string,
    ttl: number,
    waiting: boolean,
    trace: LockTraceContext | undefined,
  ): Promise<{ lease: Lease | undefined; retryInMs: number }> => {
    if (trace) trace.roundTrips += callsPerAttempt
    const started = performance.now()
    const result = await primitive.attempt(keys, token, ttl, waiting)
    if (!result.ok) return { lease: undefined, retryInMs: result.retryInMs }
    return { lease: await lease(resource, keys, token, ttl, result.fence, started), retryInMs: 0 }
  }

  const checkAcquireOptions = (options: AcquireOptions) => {
    if (typeof options !== 'object' || options === null)
      throw new InvalidArgumentError('options must be an object')
    const ttl = assertTtl('ttlMs', options.ttlMs ?? settings.ttlMs)
    const waitMs = assertDuration('waitMs', options.waitMs ?? settings.waitMs, { allowZero: true })
    if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
      throw new InvalidArgumentError('signal must be an AbortSignal')
    }
    return { ttl, waitMs }
  }

  const acquired = (lease: Lease, waitedMs: number, trace: LockTraceContext | undefined) => {
    counters.acquisitions += 1
    if (trace) {
      trace.outcome = 'acquired'
      trace.waitedMs = waitedMs
      trace.fence = lease.fence
    }
    if (emitter.has('acquired')) {
      emitter.emit('acquired', { resource: lease.resource, fence: lease.fence, waitedMs })
    }
    return lease
  }

  const traceAcquire = tracing.operation('acquire')
  const traceTryAcquire = tracing.operation('tryAcquire')
  const traceWithLock = tracing.operation('withLock')

  /** A fresh tracing context, or undefined when nobody subscribes (the common, free case). */
  const traceContext = (resource: string): LockTraceContext => ({
    kind,
    resource: String(resource),
    roundTrips: 0,
  })

  const acquire = (resource: string, options: AcquireOptions = {}): Promise<Lease> => {
    if (!traceAcquire.active) return acquireWith(resource, options, undefined)
    const trace = traceContext(resource)
    return traced(traceAcquire, trace, () => acquireWith(resource, options, trace))
  }

  const acquireWith = async (
    resource: string,
    options: AcquireOptions,
    trace: LockTraceContext | undefined,
  ): Promise<Lease> => {
    const { ttl, waitMs } = checkAcquireOptions(options)
    const keys = primitive.keysOf(resource)
    const { signal } = options
    if (signal?.aborted) throw aborted(signal, trace, 0)
    const token = randomId(TOKEN_SIZE)
    const started = performance.now()
    const deadline = started + waitMs
    const key = primitive.notifyKey(keys)

    // Local waiters are already in line: do not overtake them (they get the lock by hand-off).
    const queued = waitMs > 0 && notifier.waiting(key) > 0
    // Once subscribed, stand in line before the first attempt, so a release that lands between a
    // failed attempt and the sleep still wakes us. Before that, the fast path stays ticket-free.
    let ticket = queued || notifier.active ? notifier.join(key) : undefined
    try {
      return await waitFor()
    } catch (error) {
      if (trace && signal?.aborted && error === signal.reason) {
        trace.outcome = 'aborted'
        trace.waitedMs = performance.now() - started
      }
      throw error
    } finally {
      ticket?.leave()
      if (notifier.waiting(key) === 0) localHolders.delete(key)
    }

    async function waitFor(): Promise<Lease> {
      let hint = Number.POSITIVE_INFINITY
      let retryNow = false
      if (!queued) {
        const first = await attemptOnce(resource, keys, token, ttl, ticket !== undefined && waitMs > 0, trace)
        if (first.lease) {
          if (ticket) ticket.notified = false
          return acquired(first.lease, 0, trace)
        }
        signal?.throwIfAborted()
        if (waitMs === 0) throw timeout(resource, performance.now() - started, trace)
        hint = first.retryInMs
        if (!ticket) {
          await notifier.ready(Math.min(SUBSCRIBE_WAIT_MS, Math.max(1, deadline - performance.now())), signal)
          ticket = notifier.join(key)
          // Joined late: a release may have happened while we subscribed, so retry once at once.
          retryNow = true
        }
      }
      ticket!.handoff = { token, ttl }
      for (let poll = 0; ; poll++) {
        if (!retryNow && !ticket!.notified) {
          const remaining = deadline - performance.now()
          if (remaining <= 0) throw timeout(resource, performance.now() - started, trace)
          // A local holder hands off or releases (which notifies): poll only at the slowest pace,
          // as a safety net for a lost notification. Otherwise back off with jitter; and since an
          // expired holder publishes nothing, never sleep past its remaining ttl.
          let holder = localHolders.get(key)
          if (holder && !holder.held) {
            localHolders.delete(key)
            holder = undefined
          }
          const delay = Math.min(
            remaining,
            holder
              ? Math.min(holder.remainingMs + 1, settings.backoff.maxMs)
              : backoffDelay(poll, settings.backoff),
            hint > 0 ? hint + 1 : Number.POSITIVE_INFINITY,
          )
          const grant = await ticket!.sleep(delay, signal)
          if (grant) {
            const handed = await lease(resource, keys, token, ttl, grant.fence, grant.started)
            if (handed) return acquired(handed, performance.now() - started, trace)
            continue
          }
          // One holder at a time: only the head of this process's line polls. A waiter behind it
          // that polled could take a lock just released while the head was between two attempts
          // (awake, so not handed the lock), overtaking it. It tries when a release wakes it, or
          // once it is the head; the head's own polls keep the safety net for a lost message.
          if (primitive.exclusive && !ticket!.notified && !ticket!.first) continue
        }
        retryNow = false
        signal?.throwIfAborted()
        ticket!.notified = false
        const result = await attemptOnce(resource, keys, token, ttl, true, trace)
        if (result.lease) {
          // The notification (if any) was for the release we just won; do not pass it on.
          ticket!.notified = false
          return acquired(result.lease, performance.now() - started, trace)
        }
        hint = result.retryInMs
      }
    }
  }

  const tryAcquire = (resource: string, options: Pick<AcquireOptions, 'ttlMs'> = {}) => {
    if (!traceTryAcquire.active) return tryAcquireWith(resource, options, undefined)
    const trace = traceContext(resource)
    return traced(traceTryAcquire, trace, () => tryAcquireWith(resource, options, trace))
  }

  const tryAcquireWith = async (
    resource: string,
    options: Pick<AcquireOptions, 'ttlMs'>,
    trace: LockTraceContext | undefined,
  ): Promise<Lease | null> => {
    const { ttl } = checkAcquireOptions({ ttlMs: options?.ttlMs, waitMs: 0 })
    const keys = primitive.keysOf(resource)
    const result = await attemptOnce(resource, keys, randomId(TOKEN_SIZE), ttl, false, trace)
    if (result.lease) return acquired(result.lease, 0, trace)
    if (trace) trace.outcome = 'busy'
    return null
  }

  const withLease = <T>(
    resource: string,
    fn: (signal: AbortSignal, lease: Lease) => Promise<T> | T,
    options: WithLockOptions = {},
  ): Promise<T> => {
    if (!traceWithLock.active) return withLeaseWith(resource, fn, options, undefined)
    const trace = traceContext(resource)
    return traced(traceWithLock, trace, () => withLeaseWith(resource, fn, options, trace))
  }

  const withLeaseWith = async <T>(
    resource: string,
    fn: (signal: AbortSignal, lease: Lease) => Promise<T> | T,
    options: WithLockOptions,
    trace: LockTraceContext | undefined,
  ): Promise<T> => {
    if (typeof fn !== 'function') throw new InvalidArgumentError('fn must be a function')
    const ttl = options?.ttlMs ?? settings.ttlMs
    const intervalMs = options?.watchdogIntervalMs ?? Math.max(1, Math.floor(ttl / 3))
    assertDuration('watchdogIntervalMs', intervalMs)
    const lease = await acquireWith(resource, options, trace)
    const watchdog = startWatchdog(lease, { ttl, intervalMs }, (error) => {
      if (!LockLostError.isInstance(error))
        emitter.emit('error', { operation: 'extend', error, key: resource })
    })
    try {
      return await fn(lease.signal, lease)
    } finally {
      watchdog.stop()
      try {
        const heldMs = (lease as LeaseImpl<K>).heldMs
        await lease.release()
        if (trace) {
          trace.outcome = 'released'
          trace.heldMs = heldMs
        }
      } catch (error) {
        if (trace) trace.outcome = LockNotHeldError.isInstance(error) ? 'lost' : trace.outcome
        emitter.emit('error', { operation: 'release', error, key: resource })
      }
    }
  }

  const timeout = (resource: string, waitedMs: number, trace: LockTraceContext | undefined) => {
    counters.timeouts += 1
    if (trace) {
      trace.outcome = 'timeout'
      trace.waitedMs = waitedMs
    }
    return new LockTimeoutError(
      `"${resource}" stayed locked for the whole wait of ${Math.round(waitedMs)} ms`,
      {
        resource,
        waitedMs,
      },
    )
  }

  const aborted = (signal: AbortSignal, trace: LockTraceContext | undefined, waitedMs: number): unknown => {
    if (trace) {
      trace.outcome = 'aborted'
      trace.waitedMs = waitedMs
    }
    return signal.reason
  }

  return { acquire, tryAcquire, withLease }
}
