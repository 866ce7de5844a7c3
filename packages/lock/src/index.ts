export {
  InvalidArgumentError,
  LockLostError,
  LockNotHeldError,
  LockTimeoutError,
  QuorumError,
  RedisUnavailableError,
  TimeoutError,
} from './errors.js'
export { type CreateLockOptions, createLock, type Lock } from './lock.js'
export type { LockState } from './lock-primitive.js'
export type { LockSide, ReadWriteLock, ReadWriteLockOptions, ReadWriteState } from './read-write-lock.js'
export type { Semaphore, SemaphoreOptions, SemaphoreState } from './semaphore.js'
export type { LockStats } from './stats.js'
export type { AcquireOptions, Lease, LockEvents, WithLockOptions } from './types.js'
