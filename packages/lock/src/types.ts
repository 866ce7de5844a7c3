/** A held lock (or semaphore permit). `await using lease = await lock.acquire(...)` releases it. */
export interface Lease extends AsyncDisposable {
  /** The resource (or semaphore name) this lease is for. */
  readonly resource: string
  /** The random owner token stored in Redis; only its holder can extend or release. */
  readonly token: string
  /**
   * Fencing token: strictly increasing per resource, minted in the same Lua call that took the lock,
   * as max(previous fence + 1, Redis server time in µs), a safe integer (~1.8e15). Pass it to the
   * protected resource, which rejects any token lower than the highest it has seen; compare fences
   * as numbers.
   */
  readonly fence: number
  /**
   * Estimated wall-clock time (ms since the epoch) until which the lease is valid: the ttl minus the
   * time the acquire took minus the clock drift allowance. Updated by `extend()`. Validity itself is
   * kept on the monotonic clock, so a step of the system clock moves this estimate, never `held`.
   */
  readonly expiresAt: number
  /** Aborts with `LockLostError` when the lease is lost: expired, or an extension found it gone. */
  readonly signal: AbortSignal
  /** True until the lease is released or lost. */
  readonly held: boolean
  /**
   * Sets the remaining time to live to `ttlMs` (default: the ttl the lease was taken with). Throws
   * `LockLostError` (and aborts `signal`) when the lock is no longer ours; never revives an expired lock.
   */
  extend(ttlMs?: number): Promise<void>
  /**
   * Releases the lock. Throws `LockNotHeldError` when the lock was no longer ours (it expired, or
   * another owner has it now); someone else's lock is never deleted. A second call does nothing.
   */
  release(): Promise<void>
  /** Like `release()`, but reports a failure through the `error` event instead of throwing. */
  [Symbol.asyncDispose](): Promise<void>
}

export interface AcquireOptions {
  /**
   * Lease time to live in ms.
   * @default the instance's `ttlMs`
   */
  ttlMs?: number
  /**
   * How long to wait for a busy lock, in ms; 0 tries once.
   * @default the instance's `waitMs`
   */
  waitMs?: number
  /** Cancels the wait at once; the promise rejects with `signal.reason`. */
  signal?: AbortSignal
}

export interface WithLockOptions extends AcquireOptions {
  /**
   * How often the watchdog extends the lease while the routine runs, in ms.
   * @default a third of the ttl
   */
  watchdogIntervalMs?: number
}

export type LockEvents = {
  acquired: { resource: string; fence: number; waitedMs: number }
  released: { resource: string }
  extended: { resource: string; expiresAt: number }
  lost: { resource: string; error: Error }
  /**
   * Failures that could not be thrown at a caller: a watchdog extension, a release after
   * `withLock`/`asyncDispose`, the cleanup of a failed or too-late acquisition, the subscriber.
   * `key` is the resource name (absent for the subscriber).
   */
  error: { operation: 'extend' | 'release' | 'cleanup' | 'subscribe'; error: unknown; key?: string }
}
