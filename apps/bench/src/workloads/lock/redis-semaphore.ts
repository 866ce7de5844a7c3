import { Mutex } from 'redis-semaphore'
import { IMPLEMENTATION } from '../../scenario-names.js'
import { LOCK_TTL_MS, type LockFamily } from './families.js'

/**
 * redis-semaphore's Mutex as its README shows it: one Mutex per acquisition; SET NX PX to acquire
 * (polling every retryInterval, 10 ms by default, while busy), a Lua compare-and-delete to release.
 */
export const redisSemaphore: LockFamily = {
  implementation: IMPLEMENTATION.redisSemaphore,
  async open({ redis }) {
    return {
      async acquire(resource, waitMs) {
        const mutex = new Mutex(redis, resource, { lockTimeout: LOCK_TTL_MS, acquireTimeout: waitMs })
        await mutex.acquire()
        return () => mutex.release()
      },
    }
  },
}
