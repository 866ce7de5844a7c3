import { defineError } from '@x/redis-core'

export {
  InvalidArgumentError,
  RedisUnavailableError,
  TimeoutError,
} from '@x/redis-core'

/** The lock (or permit) stayed busy until the wait ended: `waitedMs` is how long the caller waited. */
export class LockTimeoutError extends defineError<'E_LOCK_TIMEOUT', { resource: string; waitedMs: number }>(
  'E_LOCK_TIMEOUT',
  'LockTimeoutError',
) {}

/**
 * A lease stopped being ours while we relied on it: it expired, an extension found the key gone or
 * owned by someone else, or Redis stayed unreachable past the lease's validity. The lease's
 * `signal` aborts with this error.
 */
export class LockLostError extends defineError<'E_LOCK_LOST', { resource: string }>(
  'E_LOCK_LOST',
  'LockLostError',
) {}

/** `release()` or `extend()` found that the lock was no longer held with our token; nothing was changed. */
export class LockNotHeldError extends defineError<'E_LOCK_NOT_HELD', { resource: string }>(
  'E_LOCK_NOT_HELD',
  'LockNotHeldError',
) {}

/**
 * Redlock: fewer than a majority of the servers answered, so no decision could be made.
 * `answered` servers replied, `quorum` were needed; `cause` is an AggregateError of the failures.
 */
export class QuorumError extends defineError<
  'E_LOCK_QUORUM',
  { resource: string; answered: number; quorum: number }
>('E_LOCK_QUORUM', 'QuorumError') {}
