import { InvalidArgumentError } from '@x/redis-core'
import { createLeaseManager, type Primitive } from './lease-manager.js'
import { assertLockName } from './names.js'
import { lockExtend } from './scripts/lock-extend.lua.js'
import { rwAcquireRead } from './scripts/rw-acquire-read.lua.js'
import { rwAcquireWrite } from './scripts/rw-acquire-write.lua.js'
import { rwInspect } from './scripts/rw-inspect.lua.js'
import { rwReleaseRead } from './scripts/rw-release-read.lua.js'
import { rwReleaseWrite } from './scripts/rw-release-write.lua.js'
import { semaphoreExtend } from './scripts/semaphore-extend.lua.js'
import type { SemaphoreContext } from './semaphore.js'
import { tracedInspect } from './tracing.js'
import { assertTtl } from './ttl.js'
import type { AcquireOptions, Lease, WithLockOptions } from './types.js'

export interface ReadWriteLockOptions {
  /**
   * Lease time to live of both sides, in ms.
   * @default the lock instance's `ttlMs`
   */
  ttlMs?: number
}

/** One side (read or write) of a read-write lock; leases have the usual shape. */
export interface LockSide {
  acquire(options?: AcquireOptions): Promise<Lease>
  tryAcquire(options?: Pick<AcquireOptions, 'ttlMs'>): Promise<Lease | null>
  withLock<T>(
    fn: (signal: AbortSignal, lease: Lease) => Promise<T> | T,
    options?: WithLockOptions,
  ): Promise<T>
}

export interface ReadWriteState {
  /** True while a writer holds the lock. */
  writer: boolean
  /** Live (unexpired) readers. */
  readers: number
  /** The last fencing token issued (readers and writers share one counter). */
  fence: number
}

/** Many readers or one writer. */
export interface ReadWriteLock {
  readonly name: string
  readonly read: LockSide
  readonly write: LockSide
  inspect(): Promise<ReadWriteState>
}

/**
 * A read-write lock: a writer key (compare-token string, like the mutex) and a sorted set of
 * readers scored by expiry on the server clock. A reader enters unless a writer holds the lock; a
 * writer enters when there is no writer and no live reader. The release of a writer wakes every
 * local waiter (readers enter together); the last reader's release wakes one. Readers are not
 * blocked by a *waiting* writer in another process, so a constant stream of overlapping readers
 * can delay writers (within one lock instance, new callers queue behind waiting ones).
 */
export function createReadWriteLockOn(
  context: SemaphoreContext,
  name: string,
  options: ReadWriteLockOptions = {},
): ReadWriteLock {
  const { servers, keys, channel, call } = context
  if (servers.length !== 1) {
    throw new InvalidArgumentError(
      'a read-write lock needs one Redis server or one Cluster, not a Redlock set',
    )
  }
  if (typeof options !== 'object' || options === null)
    throw new InvalidArgumentError('options must be an object')
  const server = servers[0]!
  assertLockName('read-write lock name', name)
  const ttl = assertTtl('ttlMs', options.ttlMs ?? context.settings.ttlMs)
  const writer = keys.tagged(name, 'rw-writer')
  const readers = keys.tagged(name, 'rw-readers')
  const fence = keys.tagged(name, 'rw-fence')
  const all: [string, string, string] = [writer, readers, fence]

  const readSide: Primitive<undefined> = {
    exclusive: false,
    keysOf: () => undefined,
    notifyKey: () => writer,
    async attempt(_keys, token, leaseTtl) {
      const [joined, value] = await call(server, rwAcquireRead, all, [token, leaseTtl])
      return joined === 1 ? { ok: true, fence: value } : { ok: false, retryInMs: value }
    },
    async extend(_keys, token, leaseTtl) {
      return (await call(server, semaphoreExtend, [readers], [token, leaseTtl])) === 1
    },
    async release(_keys, token) {
      const released = await call(server, rwReleaseRead, [readers], [token, channel, writer])
      return released === 1 ? 'notified' : false
    },
  }

  const writeSide: Primitive<undefined> = {
    exclusive: false,
    keysOf: () => undefined,
    notifyKey: () => writer,
    async attempt(_keys, token, leaseTtl) {
      const [taken, value] = await call(server, rwAcquireWrite, all, [token, leaseTtl])
      return taken === 1 ? { ok: true, fence: value } : { ok: false, retryInMs: value }
    },
    async extend(_keys, token, leaseTtl) {
      return (await call(server, lockExtend, [writer], [token, leaseTtl])) === 1
    },
    async release(_keys, token) {
      const released = await call(server, rwReleaseWrite, [writer], [token, channel])
      return released === 1 ? 'notified' : false
    },
  }

  const side = (primitive: Primitive<undefined>, kind: 'read' | 'write'): LockSide => {
    const manager = createLeaseManager(primitive, {
      ...context,
      kind,
      settings: { ...context.settings, ttlMs: ttl },
    })
    return {
      acquire: (acquireOptions) => manager.acquire(name, acquireOptions),
      tryAcquire: (acquireOptions) => manager.tryAcquire(name, acquireOptions),
      withLock: (fn, withOptions) => manager.withLease(name, fn, withOptions),
    }
  }

  return {
    name,
    read: side(readSide, 'read'),
    write: side(writeSide, 'write'),
    inspect: () =>
      tracedInspect(
        'read-write',
        name,
        async (): Promise<ReadWriteState> => {
          const [pttl, live, last] = await call(server, rwInspect, all, [])
          return { writer: pttl !== -2, readers: live, fence: last }
        },
        (state) => ({ locked: state.writer || state.readers > 0, fence: state.fence }),
      ),
  }
}
