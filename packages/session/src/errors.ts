import { defineError } from '@x/redis-core'

export {
  DecodeError,
  EncodeError,
  InvalidArgumentError,
  RedisUnavailableError,
  TimeoutError,
} from '@x/redis-core'

/**
 * An update lost a compare-and-set race against another writer more times than `updateRetries`
 * allows (`reason: 'contended'`), or targeted a token that was rotated away and is only readable
 * during its grace period (`reason: 'rotated'`). Nothing was written by the failing call.
 * `sessionId` is the public id (`tag.id`): safe to log, never a token.
 */
export class SessionConflictError extends defineError<
  'E_SESSION_CONFLICT',
  { sessionId: string; reason: 'contended' | 'rotated' }
>('E_SESSION_CONFLICT', 'SessionConflictError') {}

/** The encoded session data (`sizeBytes`) is larger than `maxDataBytes`; nothing was written. */
export class SessionDataTooLargeError extends defineError<
  'E_SESSION_DATA_TOO_LARGE',
  { sizeBytes: number; maxDataBytes: number }
>('E_SESSION_DATA_TOO_LARGE', 'SessionDataTooLargeError') {}
