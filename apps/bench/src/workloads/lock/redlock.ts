import { Redlock } from '@sesamecare-oss/redlock'
import { IMPLEMENTATION } from '../../scenario-names.js'
import { LOCK_TTL_MS, type LockFamily } from './families.js'

/**
 * @sesamecare-oss/redlock (the maintained fork of redlock) on the one bench server: EVALSHA to
 * acquire and to release; a busy lock is retried every retryDelay (200 ms ± 100 ms by default).
 * retryCount -1 retries without limit, so a waiter keeps trying as long as the others do.
 */
export const redlock: LockFamily = {
  implementation: IMPLEMENTATION.redlock,
  async open({ redis }) {
    const client = new Redlock([redis], { retryCount: -1 })
    client.on('error', () => {
      // Emitted for every refused attempt on a busy resource; the acquire promise carries the outcome.
    })
    return {
      async acquire(resource) {
        const lock = await client.acquire([resource], LOCK_TTL_MS)
        return () => lock.release()
      },
    }
  },
}
