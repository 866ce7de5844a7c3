import {
  assertDuration,
  assertPositive,
  assertRedisClient,
  type BackoffOptions,
  createEmitter,
  type Emitter,
  InvalidArgumentError,
  type RedisClient,
} from '@x/redis-core'
import { createScriptCaller } from './call.js'
import { createLeaseManager, type ManagerSettings } from './lease-manager.js'
import { type LockState, quorumLock, singleLock } from './lock-primitive.js'
import { lockKeyspace } from './names.js'
import { createReadWriteLockOn, type ReadWriteLock, type ReadWriteLockOptions } from './read-write-lock.js'
import { createReleaseNotifier } from './release-notifier.js'
import { createSemaphoreOn, type Semaphore, type SemaphoreOptions } from './semaphore.js'
import { createCounters, type LockStats } from './stats.js'
import { type LockTraceContext, traced, tracing } from './tracing.js'
import { assertTtl } from './ttl.js'

const traceInspect = tracing.operation('inspect')
const traceRaiseFence = tracing.operation('raiseFence')

import type { AcquireOptions, Lease, LockEvents, WithLockOptions } from './types.js'

export interface CreateLockOptions {
  /**
   * One client (a server or a Cluster), or an array of independent servers for Redlock (majority
   * quorum). Either way the API is the same.
   */
  redis: RedisClient | readonly RedisClient[]
  /**
   * Prefix of every key and of the release channel (at most 256 bytes).
   * @default 'lock'
   */
  prefix?: string
  /**
   * Default lease time to live in ms.
   * @default 30000
   */
  ttlMs?: number
  /**
   * Default wait of `acquire` and `withLock` for a busy lock, in ms; 0 tries once.
   * @default 10000
   */
  waitMs?: number
  /**
   * Poll schedule while waiting: a safety net for a lost release notification or a holder that
   * expired without releasing (release notifications wake waiters earlier).
   * @default { initialMs: 25, maxMs: 1000, jitter: 'full' }
   */
  backoff?: Partial<BackoffOptions>
  /**
   * Share of the ttl assumed lost to clock drift between Redis and this process; a lease is only
   * handed out while `ttl − elapsed − (ttl × driftFactor + 2 ms)` is positive.
   * @default 0.01
   */
  driftFactor?: number
  /**
   * Longest wait for one Redis call (per server), in ms, whatever your client's own
   * `commandTimeout`; a call that gives up rejects with `TimeoutError`.
   * @default 1000
   */
  redisTimeoutMs?: number
  /**
   * Consecutive local hand-offs of one resource: while waiters of this instance are in line, a
   * release grants the lock straight to the first of them in one call (no notification round).
   * Every this many hand-offs in a row, the hand-off checks whether a waiter announced itself in
   * Redis (a waiter of another process does with every attempt), and if one did, releases the lock
   * instead, so that every waiter competes.
   * 0 disables hand-offs. (Redlock never hands off.)
   * @default 16
   */
  handoffLimit?: number
}

export interface Lock {
  /** Acquires `resource`, waiting up to `waitMs` (LockTimeoutError) for a busy lock. */
  acquire(resource: string, options?: AcquireOptions): Promise<Lease>
  /** One attempt: a lease, or null when the lock is busy. */
  tryAcquire(resource: string, options?: Pick<AcquireOptions, 'ttlMs'>): Promise<Lease | null>
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
   * resource rejects a fence lower than one it has seen although you hold the lease: the Redis
   * server clock, which floors every fence, was behind (set back, or a new master's clock behind the
   * old one's by more than the failover took), or a counter raised above the clock was lost. Pass
   * the resource's highest accepted fence, then retry.
   * On Redlock it raises every server and needs a majority to answer (QuorumError otherwise).
   */
  raiseFence(resource: string, floor: number): Promise<number>
  /** A counting semaphore sharing this instance's connection, subscriber and events. */
  createSemaphore(name: string, options: SemaphoreOptions): Semaphore
  /** A read-write lock (many readers or one writer) sharing this instance's connection and events. */
  createReadWriteLock(name: string, options?: ReadWriteLockOptions): ReadWriteLock
  /** Subscribes to an event; returns the unsubscribe function. */
  on: Emitter<LockEvents>['on']
  /** Counters since creation and current gauges; no Redis call. */
  stats(): LockStats
  /** Closes the release subscriber (the user's clients stay open). Idempotent. */
  close(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

/**
 * Creates a lock instance. Nothing connects until the first call; the release subscriber is a
 * duplicate of your client, opened on the first wait for a busy lock.
 */
export function createLock(options: CreateLockOptions): Lock {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options are required')
  const servers: readonly RedisClient[] = Array.isArray(options.redis) ? options.redis : [options.redis]
  if (servers.length === 0)
    throw new InvalidArgumentError('redis must be a client or a non-empty array of them')
  servers.forEach((server, index) => {
    assertRedisClient(server, servers.length === 1 ? 'redis' : `redis[${index}]`)
  })
  const keys = lockKeyspace(options.prefix ?? 'lock')
  const channel = keys.key('released')
  const redisTimeoutMs = assertDuration('redisTimeoutMs', options.redisTimeoutMs ?? 1000)
  const driftFactor = assertPositive('driftFactor', options.driftFactor ?? 0.01, { allowZero: true })
  if (driftFactor >= 1) throw new InvalidArgumentError('driftFactor must be below 1')
  const settings: ManagerSettings = {
    ttlMs: assertTtl('ttlMs', options.ttlMs ?? 30_000),
    waitMs: assertDuration('waitMs', options.waitMs ?? 10_000, { allowZero: true }),
    backoff: resolveBackoff(options.backoff),
    driftFactor,
    handoffLimit: assertPositive('handoffLimit', options.handoffLimit ?? 16, {
      allowZero: true,
      integer: true,
    }),
  }
  const counters = createCounters()
  const call = createScriptCaller(servers, redisTimeoutMs, () => {
    counters.redisErrors += 1
  })

  const emitter = createEmitter<LockEvents>({ name: '@x/lock' })
  const notifier = createReleaseNotifier(servers, channel, redisTimeoutMs, (error) =>
    emitter.emit('error', { operation: 'subscribe', error }),
  )
  const primitive =
    servers.length === 1
      ? singleLock(servers[0]!, keys, channel, call)
      : quorumLock(servers, keys, channel, call, (resource, error) =>
          emitter.emit('error', { operation: 'cleanup', error, key: resource }),
        )
  const kind = servers.length === 1 ? ('lock' as const) : ('redlock' as const)
  const context = { kind, servers, keys, channel, call, notifier, emitter, settings, counters }
  const manager = createLeaseManager(primitive, context)
  let closed: Promise<void> | undefined
  const close = () => {
    closed ??= notifier.close()
    return closed
  }

  return {
    acquire: manager.acquire,
    tryAcquire: manager.tryAcquire,
    withLock: manager.withLease,
    inspect(resource) {
      const run = async (trace?: LockTraceContext) => {
        const state = await primitive.inspect(primitive.keysOf(resource))
        if (trace) {
          trace.roundTrips = servers.length
          trace.outcome = state.locked ? 'locked' : 'unlocked'
          trace.fence = state.fence
        }
        return state
      }
      if (!traceInspect.active) return run()
      const trace: LockTraceContext = { kind, resource: String(resource), roundTrips: 0 }
      return traced(traceInspect, trace, () => run(trace))
    },
    raiseFence(resource, floor) {
      const run = async (trace?: LockTraceContext) => {
        const keys = primitive.keysOf(resource)
        const fence = await primitive.raiseFence(keys, assertFence('floor', floor))
        if (trace) {
          trace.roundTrips = servers.length
          trace.outcome = 'fenced'
          trace.fence = fence
        }
        return fence
      }
      if (!traceRaiseFence.active) return run()
      const trace: LockTraceContext = { kind, resource: String(resource), roundTrips: 0 }
      return traced(traceRaiseFence, trace, () => run(trace))
    },
    createSemaphore: (name, semaphoreOptions) => createSemaphoreOn(context, name, semaphoreOptions),
    createReadWriteLock: (name, readWriteOptions) => createReadWriteLockOn(context, name, readWriteOptions),
    on: emitter.on,
    stats: () => ({ ...counters, pendingWaiters: notifier.waiting() }),
    close,
    [Symbol.asyncDispose]: close,
  }
}

/** A fence the counter can hold exactly: the scripts and INCR work on integers, JS numbers are doubles. */
function assertFence(name: string, value: unknown): number {
  const fence = assertPositive(name, value, { allowZero: true, integer: true })
  if (!Number.isSafeInteger(fence))
    throw new InvalidArgumentError(`${name} must be a safe integer, got ${fence}`)
  return fence
}

function resolveBackoff(backoff: Partial<BackoffOptions> = {}): BackoffOptions {
  if (typeof backoff !== 'object' || backoff === null)
    throw new InvalidArgumentError('backoff must be an object')
  const initialMs = assertDuration('backoff.initialMs', backoff.initialMs ?? 25)
  const maxMs = assertDuration('backoff.maxMs', backoff.maxMs ?? 1000)
  if (maxMs < initialMs) throw new InvalidArgumentError('backoff.maxMs must be >= backoff.initialMs')
  const jitter = backoff.jitter ?? 'full'
  if (jitter !== 'full' && jitter !== 'equal' && jitter !== 'none') {
    throw new InvalidArgumentError(`backoff.jitter must be 'full', 'equal' or 'none', got ${String(jitter)}`)
  }
  return { initialMs, maxMs, jitter }
}
