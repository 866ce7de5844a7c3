/** What `lock.stats()` returns: counters since the instance was created, and gauges now. */
export interface LockStats {
  /** Leases handed out (locks, semaphore permits, read and write sides). */
  acquisitions: number
  /** Leases released by their holder. */
  releases: number
  /** Waits that ended in `LockTimeoutError`. */
  timeouts: number
  /** Leases lost: expired, or found gone by an extension or a release. */
  losses: number
  /** Releases that handed the lock straight to a waiter of this instance. */
  handoffs: number
  /** Redis calls that failed (timeouts, connection errors, server errors). */
  redisErrors: number
  /** Callers of this instance waiting for a busy lock now. */
  pendingWaiters: number
}

/** The counters part, shared by every lease manager of an instance. */
export type LockCounters = Omit<LockStats, 'pendingWaiters'>

export function createCounters(): LockCounters {
  return { acquisitions: 0, releases: 0, timeouts: 0, losses: 0, handoffs: 0, redisErrors: 0 }
}
