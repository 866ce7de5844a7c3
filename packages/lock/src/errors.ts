import { defineError, type XError, type XErrorOptions } from '@x/redis-core'

export { InvalidArgumentError, RedisUnavailableError, TimeoutError } from '@x/redis-core'

/**
 * The shape `defineError` returns, spelled out: core's inferred class type mentions its private
 * brand symbol, which declaration emit cannot name from another package (TS4020).
 */
interface ErrorClass<C extends string> {
  new (message: string, options?: XErrorOptions): XError & { readonly code: C }
  readonly code: C
  isInstance(error: unknown): error is XError & { code: C }
}

const define = <C extends string>(code: C, name: string): ErrorClass<C> => defineError(code, name)

/** The lock (or permit) stayed busy until the wait deadline passed. */
export class LockTimeoutError extends define('E_LOCK_TIMEOUT', 'LockTimeoutError') {}

/**
 * A lease stopped being ours while we relied on it: it expired, an extension found the key gone or
 * owned by someone else, or Redis stayed unreachable past the lease's validity. The lease's
 * `signal` aborts with this error.
 */
export class LockLostError extends define('E_LOCK_LOST', 'LockLostError') {}

/** `release()` found that the lock was no longer held with our token; nothing was deleted. */
export class LockNotHeldError extends define('E_LOCK_NOT_HELD', 'LockNotHeldError') {}

/** Redlock: fewer than a majority of the servers answered, so no decision could be made. */
export class QuorumError extends define('E_QUORUM', 'QuorumError') {}
