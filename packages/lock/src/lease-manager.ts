import { randomUUID } from 'node:crypto'
import { assertPositive, type Emitter, InvalidArgumentError } from '@x/redis-core'
import { type BackoffOptions, type Jitter, retryDelay } from './backoff.js'
import { LockLostError, LockTimeoutError } from './errors.js'
import { createLease, type LeaseOperations } from './lease.js'
import type { ReleaseNotifier } from './release-notifier.js'
import type { AcquireOptions, Lease, LockEvents, WithLockOptions } from './types.js'
import { startWatchdog } from './watchdog.js'

export type Attempt = { ok: true; fence: number } | { ok: false; retryInMs: number }

/** What differs between a mutex, a semaphore and Redlock: the scripts and the keys. */
export interface Primitive {
  /** Validates the resource (InvalidArgumentError) and returns the key releases are published with. */
  notifyKey(resource: string): string
  attempt(resource: string, token: string, ttl: number): Promise<Attempt>
  extend(resource: string, token: string, ttl: number): Promise<boolean>
  release(resource: string, token: string): Promise<boolean>
}

export interface ManagerSettings {
  ttl: number
  deadline: number
  backoff: Required<BackoffOptions>
  jitter: Jitter
  driftFactor: number
}

export interface LeaseManager {
  acquire(resource: string, options?: AcquireOptions): Promise<Lease>
  tryAcquire(resource: string, options?: Pick<AcquireOptions, 'ttl'>): Promise<Lease | null>
  withLease<T>(
    resource: string,
    fn: (signal: AbortSignal, lease: Lease) => Promise<T> | T,
    options?: WithLockOptions,
  ): Promise<T>
}

/** Longest ttl a timer can represent (setTimeout overflows above 2^31 - 1 ms). */
const MAX_TTL = 2 ** 31 - 1

/** How long a first contended wait may spend subscribing before it falls back to polling alone. */
const SUBSCRIBE_WAIT_MS = 1000

export function createLeaseManager(
  primitive: Primitive,
  notifier: ReleaseNotifier,
  emitter: Emitter<LockEvents>,
  settings: ManagerSettings,
): LeaseManager {
  const drift = (ttl: number) => Math.floor(ttl * settings.driftFactor) + 2

  const operationsFor = (resource: string): LeaseOperations => ({
    extend: (token, ttl) => primitive.extend(resource, token, ttl),
    release: (token) => primitive.release(resource, token),
    drift,
  })

  const cleanup = (resource: string, token: string) =>
    primitive.release(resource, token).catch((error: unknown) => {
      emitter.emit('error', { operation: 'cleanup', resource, error })
      return false
    })

  /**
   * One attempt, with the validity rule: a lease whose ttl − elapsed − drift is ≤ 0 is released
   * again instead of being handed out (the caller could not use it safely).
   */
  const attemptOnce = async (
    resource: string,
    token: string,
    ttl: number,
  ): Promise<{ lease: Lease } | { retryInMs: number }> => {
    const started = performance.now()
    const wallStart = Date.now()
    const result = await primitive.attempt(resource, token, ttl)
    if (!result.ok) return { retryInMs: result.retryInMs }
    const elapsed = performance.now() - started
    const validity = ttl - elapsed - drift(ttl)
    if (validity <= 0) {
      await cleanup(resource, token)
      return { retryInMs: 0 }
    }
    const lease = createLease({
      resource,
      token,
      fence: result.fence,
      ttl,
      expiresAt: wallStart + ttl - drift(ttl),
      operations: operationsFor(resource),
      emitter,
    })
    return { lease }
  }

  const checkAcquireOptions = (options: AcquireOptions) => {
    const ttl = options.ttl ?? settings.ttl
    assertPositive('ttl', ttl, { integer: true })
    if (ttl > MAX_TTL) throw new InvalidArgumentError(`ttl must be at most ${MAX_TTL} ms`)
    const waitMs = options.waitMs ?? settings.deadline
    assertPositive('waitMs', waitMs, { allowZero: true })
    if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
      throw new InvalidArgumentError('signal must be an AbortSignal')
    }
    return { ttl, waitMs }
  }

  const acquired = (lease: Lease, waitedMs: number) => {
    if (emitter.has('acquired')) {
      emitter.emit('acquired', { resource: lease.resource, fence: lease.fence, waitedMs })
    }
    return lease
  }

  const acquire = async (resource: string, options: AcquireOptions = {}): Promise<Lease> => {
    const { ttl, waitMs } = checkAcquireOptions(options)
    const { signal } = options
    signal?.throwIfAborted()
    const token = randomUUID()
    const started = performance.now()
    const deadline = started + waitMs

    const key = primitive.notifyKey(resource)
    // Once subscribed, stand in line before the first attempt, so a release that lands between a
    // failed attempt and the sleep still wakes us. Before that, the fast path stays ticket-free.
    let ticket = notifier.active ? notifier.join(key) : undefined
    try {
      const first = await attemptOnce(resource, token, ttl)
      if ('lease' in first) {
        if (ticket) ticket.notified = false
        return acquired(first.lease, 0)
      }
      signal?.throwIfAborted()
      if (waitMs === 0) throw timeout(resource, waitMs)
      let hint = first.retryInMs
      // Joined late: a release may have happened while we subscribed, so retry once at once.
      let retryNow = ticket === undefined
      if (!ticket) {
        await notifier.ready(Math.min(SUBSCRIBE_WAIT_MS, Math.max(1, deadline - performance.now())))
        ticket = notifier.join(key)
      }
      for (let poll = 0; ; poll++) {
        if (!retryNow && !ticket.notified) {
          const remaining = deadline - performance.now()
          if (remaining <= 0) throw timeout(resource, waitMs)
          // An expired holder publishes nothing: never sleep past its remaining ttl.
          const delay = Math.min(
            remaining,
            retryDelay(poll, settings.backoff, settings.jitter),
            hint > 0 ? hint + 1 : Number.POSITIVE_INFINITY,
          )
          await ticket.sleep(delay, signal)
        }
        retryNow = false
        signal?.throwIfAborted()
        ticket.notified = false
        const result = await attemptOnce(resource, token, ttl)
        if ('lease' in result) {
          // The notification (if any) was for the release we just won; do not pass it on.
          ticket.notified = false
          return acquired(result.lease, performance.now() - started)
        }
        hint = result.retryInMs
      }
    } finally {
      ticket?.leave()
    }
  }

  const tryAcquire = async (resource: string, options: Pick<AcquireOptions, 'ttl'> = {}) => {
    const { ttl } = checkAcquireOptions({ ttl: options.ttl, waitMs: 0 })
    primitive.notifyKey(resource)
    const result = await attemptOnce(resource, randomUUID(), ttl)
    return 'lease' in result ? acquired(result.lease, 0) : null
  }

  const withLease = async <T>(
    resource: string,
    fn: (signal: AbortSignal, lease: Lease) => Promise<T> | T,
    options: WithLockOptions = {},
  ): Promise<T> => {
    if (typeof fn !== 'function') throw new InvalidArgumentError('fn must be a function')
    const ttl = options.ttl ?? settings.ttl
    const intervalMs = options.watchdogIntervalMs ?? Math.max(1, Math.floor(ttl / 3))
    assertPositive('watchdogIntervalMs', intervalMs)
    const lease = await acquire(resource, options)
    const watchdog = startWatchdog(lease, { ttl, intervalMs }, (error) => {
      if (!LockLostError.isInstance(error)) emitter.emit('error', { operation: 'extend', resource, error })
    })
    try {
      return await fn(lease.signal, lease)
    } finally {
      watchdog.stop()
      try {
        await lease.release()
      } catch (error) {
        emitter.emit('error', { operation: 'release', resource, error })
      }
    }
  }

  return { acquire, tryAcquire, withLease }
}

function timeout(resource: string, waitMs: number): LockTimeoutError {
  return new LockTimeoutError(`"${resource}" stayed locked for the whole wait of ${waitMs} ms`)
}
