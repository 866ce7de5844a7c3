import { assertPositive, InvalidArgumentError, type Keyspace, type RedisClient } from '@x/redis-core'
import type { ScriptCaller } from './call.js'
import { createLeaseManager, type ManagerContext } from './lease-manager.js'
import { assertLockName } from './names.js'
import { semaphoreAcquire } from './scripts/semaphore-acquire.lua.js'
import { semaphoreExtend } from './scripts/semaphore-extend.lua.js'
import { semaphoreInspect } from './scripts/semaphore-inspect.lua.js'
import { semaphoreRelease } from './scripts/semaphore-release.lua.js'
import { semaphoreTransfer } from './scripts/semaphore-transfer.lua.js'
import { tracedInspect } from './tracing.js'
import { assertTtl } from './ttl.js'
import type { AcquireOptions, Lease, WithLockOptions } from './types.js'

export interface SemaphoreOptions {
  /** Most holders at once. */
  limit: number
  /**
   * Permit time to live in ms: a holder that dies without releasing loses its permit after it.
   * @default the lock instance's `ttlMs`
   */
  ttlMs?: number
}

export interface SemaphoreState {
  /** Live (unexpired) holders. */
  holders: number
  limit: number
  /** ms until the earliest live permit expires; `null` when there is none. */
  nextExpiryMs: number | null
  /** The last fencing token issued for this semaphore. */
  fence: number
}

/** N holders at once. Leases have the same shape as the mutex's (`resource` is the semaphore name). */
export interface Semaphore {
  readonly name: string
  readonly limit: number
  acquire(options?: AcquireOptions): Promise<Lease>
  tryAcquire(options?: Pick<AcquireOptions, 'ttlMs'>): Promise<Lease | null>
  withPermit<T>(
    fn: (signal: AbortSignal, lease: Lease) => Promise<T> | T,
    options?: WithLockOptions,
  ): Promise<T>
  inspect(): Promise<SemaphoreState>
}

/** What a semaphore or a read-write lock shares with the lock instance that made it. */
export interface SemaphoreContext extends ManagerContext {
  servers: readonly RedisClient[]
  keys: Keyspace
  channel: string
  call: ScriptCaller
}

/**
 * A counting semaphore: a sorted set of holders scored by expiry on the server clock, pruned in
 * Lua on every acquire, so a crashed holder's permit frees itself after its ttl.
 */
export function createSemaphoreOn(
  context: SemaphoreContext,
  name: string,
  options: SemaphoreOptions,
): Semaphore {
  const { servers, keys, channel, call } = context
  if (servers.length !== 1) {
    throw new InvalidArgumentError('a semaphore needs one Redis server or one Cluster, not a Redlock set')
  }
  const server = servers[0]!
  assertLockName('semaphore name', name)
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options are required')
  const limit = assertPositive('limit', options.limit, { integer: true })
  const ttl = assertTtl('ttlMs', options.ttlMs ?? context.settings.ttlMs)
  const holders = keys.tagged(name, 'semaphore')
  const fence = keys.tagged(name, 'semaphore-fence')

  const both: [string, string] = [holders, fence]
  const one: [string] = [holders]

  const manager = createLeaseManager<undefined>(
    {
      exclusive: false,
      keysOf: () => undefined,
      notifyKey: () => holders,
      async attempt(_keys, token, leaseTtl) {
        const [granted, value] = await call(server, semaphoreAcquire, both, [token, leaseTtl, limit])
        return granted === 1 ? { ok: true, fence: value } : { ok: false, retryInMs: value }
      },
      async extend(_keys, token, leaseTtl) {
        return (await call(server, semaphoreExtend, one, [token, leaseTtl])) === 1
      },
      async release(_keys, token) {
        const released = await call(server, semaphoreRelease, one, [token, channel])
        return released === 1 ? 'notified' : false
      },
      transfer(_keys, from, to, leaseTtl) {
        return call(server, semaphoreTransfer, both, [from, to, leaseTtl])
      },
    },
    { ...context, kind: 'semaphore', settings: { ...context.settings, ttlMs: ttl } },
  )

  return {
    name,
    limit,
    acquire: (acquireOptions) => manager.acquire(name, acquireOptions),
    tryAcquire: (acquireOptions) => manager.tryAcquire(name, acquireOptions),
    withPermit: (fn, withOptions) => manager.withLease(name, fn, withOptions),
    inspect: () =>
      tracedInspect(
        'semaphore',
        name,
        async (): Promise<SemaphoreState> => {
          const [live, nextExpiry, last] = await call(server, semaphoreInspect, both, [])
          return { holders: live, limit, nextExpiryMs: nextExpiry === -2 ? null : nextExpiry, fence: last }
        },
        (state) => ({ locked: state.holders > 0, fence: state.fence }),
      ),
  }
}
