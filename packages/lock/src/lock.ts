import {
  assertPositive,
  createDeadlineQueue,
  createEmitter,
  type Emitter,
  InvalidArgumentError,
  type RedisClient,
} from '@x/redis-core'
import type { BackoffOptions, Jitter } from './backoff.js'

import { createLeaseManager, type ManagerSettings } from './lease-manager.js'
import { type LockState, quorumLock, singleLock } from './lock-primitive.js'
import { lockKeyspace } from './names.js'
import { createReadWriteLockOn, type ReadWriteLock, type ReadWriteLockOptions } from './read-write-lock.js'
import { createReleaseNotifier } from './release-notifier.js'
import { createSemaphoreOn, type Semaphore, type SemaphoreOptions } from './semaphore.js'
import type {
  AcquireOptions,
  Lease,
  LockEventHandlers,
  LockEvents,
  RetryOptions,
  WithLockOptions,
} from './types.js'

export interface CreateLockOptions {
  /**
   * One client (a server or a Cluster), or an array of independent servers for Redlock (majority
   * quorum). Either way the API is the same.
   */
  redis: RedisClient | readonly RedisClient[]
  /**
   * Prefix of every key and of the release channel.
   * @default 'lock'
   */
  prefix?: string
  /**
   * Default lease time to live in ms.
   * @default 30000
   */
  ttl?: number
  /** How `acquire` and `withLock` wait for a busy lock. */
  retry?: RetryOptions
  /**
   * Share of the ttl assumed lost to clock drift between Redis and this process; a lease is only
   * handed out while `ttl − elapsed − (ttl × driftFactor + 2 ms)` is positive.
   * @default 0.01
   */
  driftFactor?: number
  /**
   * Longest wait for one Redis call (per server), in ms; your client may have no command timeout.
   * @default 2000
   */
  commandTimeoutMs?: number
  /**
   * Consecutive local hand-offs of one resource: while waiters of this instance are in line, a
   * release grants the lock straight to the first of them in one call (no notification round),
   * at most this many times in a row before a plain release lets other processes compete.
   * 0 disables hand-offs. (Redlock never hands off.)
   * @default 16
   */
  handoffLimit?: number
  /** Handlers for lifecycle events and for failures that cannot be thrown at a caller. */
  events?: LockEventHandlers
}

export interface Lock {
  /** Acquires `resource`, waiting up to `waitMs` (LockTimeoutError) for a busy lock. */
  acquire(resource: string, options?: AcquireOptions): Promise<Lease>
  /** One attempt: a lease, or null when the lock is busy. */
  tryAcquire(resource: string, options?: Pick<AcquireOptions, 'ttl'>): Promise<Lease | null>
  /**
   * Runs `fn` under the lock, with a watchdog that extends the lease while it runs. Returns fn's
   * result or throws fn's error; a failed release goes to the `error` event, never over fn's outcome.
   */
  withLock<T>(
    resource: string,
    fn: (signal: AbortSignal, lease: Lease) => Promise<T> | T,
    options?: WithLockOptions,
  ): Promise<T>
  /** Whether `resource` is locked and for how long, without the owner's token. */
  inspect(resource: string): Promise<LockState>
  /**
   * Raises the fencing counter of `resource` to at least `floor` (never lowers it), so the next
   * lease's fence is above `floor`; returns the counter after the call. Call it when the protected
   * resource rejects a fence lower than one it has seen because Redis lost the counter (a restart
   * without persistence, a failover): pass the resource's highest accepted fence, then retry.
   * On Redlock it raises every server and needs a majority to answer (QuorumError otherwise).
   */
  raiseFence(resource: string, floor: number): Promise<number>
  /** A counting semaphore sharing this instance's connection, subscriber and events. */
  createSemaphore(name: string, options: SemaphoreOptions): Semaphore
  /** A read-write lock (many readers or one writer) sharing this instance's connection and events. */
  createReadWriteLock(name: string, options?: ReadWriteLockOptions): ReadWriteLock
  /** Subscribes to an event; returns the unsubscribe function. */
  on: Emitter<LockEvents>['on']
  /** Closes the release subscriber (the user's clients stay open). */
  close(): Promise<void>
}

/**
 * Creates a lock instance. Nothing connects until the first call; the release subscriber is a
 * `duplicate()` of your client, opened on the first wait for a busy lock.
 */
export function createLock(options: CreateLockOptions): Lock {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options are required')
  const servers: readonly RedisClient[] = Array.isArray(options.redis)
    ? options.redis
    : options.redis
      ? [options.redis as RedisClient]
      : []
  if (servers.length === 0 || servers.some((server) => typeof server?.evalsha !== 'function')) {
    throw new InvalidArgumentError('redis must be an ioredis client or a non-empty array of them')
  }
  const keys = lockKeyspace(options.prefix ?? 'lock')
  const channel = keys.key('released')
  const ttl = assertPositive('ttl', options.ttl ?? 30_000, { integer: true })
  const commandTimeoutMs = assertPositive('commandTimeoutMs', options.commandTimeoutMs ?? 2000)
  const driftFactor = assertPositive('driftFactor', options.driftFactor ?? 0.01, { allowZero: true })
  if (driftFactor >= 1) throw new InvalidArgumentError('driftFactor must be below 1')
  const settings: ManagerSettings = {
    ttl,
    deadline: assertPositive('retry.deadline', options.retry?.deadline ?? 10_000, { allowZero: true }),
    backoff: resolveBackoff(options.retry?.backoff),
    jitter: resolveJitter(options.retry?.jitter),
    driftFactor,
    handoffLimit: assertPositive('handoffLimit', options.handoffLimit ?? 16, {
      allowZero: true,
      integer: true,
    }),
  }
  const deadlines = createDeadlineQueue(commandTimeoutMs)

  const emitter = createEmitter<LockEvents>()
  for (const [event, handler] of Object.entries(options.events ?? {})) {
    if (handler === undefined) continue
    if (typeof handler !== 'function') throw new InvalidArgumentError(`events.${event} must be a function`)
    emitter.on(event as keyof LockEvents, handler as (payload: unknown) => void)
  }
  const notifier = createReleaseNotifier(servers, channel, (error) =>
    emitter.emit('error', { operation: 'subscribe', error }),
  )
  const primitive =
    servers.length === 1
      ? singleLock(servers[0]!, keys, channel, deadlines)
      : quorumLock(servers, keys, channel, deadlines, (resource, error) =>
          emitter.emit('error', { operation: 'cleanup', resource, error }),
        )
  const manager = createLeaseManager(primitive, notifier, emitter, settings)

  return {
    acquire: manager.acquire,
    tryAcquire: manager.tryAcquire,
    withLock: manager.withLease,
    async inspect(resource) {
      return primitive.inspect(primitive.keysOf(resource))
    },
    async raiseFence(resource, floor) {
      const keys = primitive.keysOf(resource)
      return primitive.raiseFence(keys, assertFence('floor', floor))
    },
    createSemaphore: (name, semaphoreOptions) =>
      createSemaphoreOn(
        { servers, keys, channel, deadlines, notifier, emitter, settings },
        name,
        semaphoreOptions,
      ),
    createReadWriteLock: (name, readWriteOptions) =>
      createReadWriteLockOn(
        { servers, keys, channel, deadlines, notifier, emitter, settings },
        name,
        readWriteOptions,
      ),
    on: emitter.on,
    close: () => notifier.close(),
  }
}

/** A fence the counter can hold exactly: the scripts and INCR work on integers, JS numbers are doubles. */
function assertFence(name: string, value: unknown): number {
  const fence = assertPositive(name, value, { allowZero: true, integer: true })
  if (!Number.isSafeInteger(fence))
    throw new InvalidArgumentError(`${name} must be a safe integer, got ${fence}`)
  return fence
}

function resolveBackoff(backoff: BackoffOptions = {}): Required<BackoffOptions> {
  const initialMs = assertPositive('retry.backoff.initialMs', backoff.initialMs ?? 25)
  const maxMs = assertPositive('retry.backoff.maxMs', backoff.maxMs ?? 1000)
  if (maxMs < initialMs) throw new InvalidArgumentError('retry.backoff.maxMs must be >= initialMs')
  return { initialMs, maxMs }
}

function resolveJitter(jitter: Jitter = 'full'): Jitter {
  if (jitter !== 'full' && jitter !== 'none') {
    throw new InvalidArgumentError(`retry.jitter must be 'full' or 'none', got ${String(jitter)}`)
  }
  return jitter
}
