import { createLock } from '@x/lock'
import { IMPLEMENTATION } from '../../scenario-names.js'
import { LOCK_TTL_MS, type LockFamily } from './families.js'

/**
 * @x/lock on the bench connection: one Lua call to acquire (it also mints the fencing token), one
 * to release (it also publishes the release, which wakes waiters instead of polling).
 */
export const xLock: LockFamily = {
  implementation: IMPLEMENTATION.xLock,
  async open({ redis, prefix }) {
    const lock = createLock({ redis, prefix: prefix('x-lock'), ttlMs: LOCK_TTL_MS })
    return {
      async acquire(resource, waitMs) {
        const lease = await lock.acquire(resource, { waitMs })
        return () => lease.release()
      },
      close: () => lock.close(),
    }
  },
}
