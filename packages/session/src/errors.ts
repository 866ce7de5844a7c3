import { XError, type XErrorOptions } from '@x/redis-core'

export {
  DecodeError,
  EncodeError,
  InvalidArgumentError,
  RedisUnavailableError,
  TimeoutError,
} from '@x/redis-core'

// These extend XError directly instead of `defineError(...)`: the class that defineError returns
// carries core's unexported BRAND symbol in its type, which the declaration build cannot name
// (TS4020). Same behaviour: stable code, brand, and an isInstance that survives duplicate installs.

/**
 * An update lost a compare-and-set race against another writer more times than `updateRetries`
 * allows, or targeted a token that was rotated away and is only readable during its grace period.
 * Nothing was written by the failing call.
 */
export class SessionConflictError extends XError {
  static readonly code = 'E_SESSION_CONFLICT'
  declare readonly code: 'E_SESSION_CONFLICT'
  constructor(message: string, options: XErrorOptions = {}) {
    super('E_SESSION_CONFLICT', message, options)
    this.name = 'SessionConflictError'
  }
  static override isInstance(error: unknown): error is SessionConflictError {
    return XError.isInstance(error) && error.code === 'E_SESSION_CONFLICT'
  }
}

/** The encoded session data is larger than `maxDataBytes`; nothing was written. */
export class SessionDataTooLargeError extends XError {
  static readonly code = 'E_SESSION_DATA_TOO_LARGE'
  declare readonly code: 'E_SESSION_DATA_TOO_LARGE'
  constructor(message: string, options: XErrorOptions = {}) {
    super('E_SESSION_DATA_TOO_LARGE', message, options)
    this.name = 'SessionDataTooLargeError'
  }
  static override isInstance(error: unknown): error is SessionDataTooLargeError {
    return XError.isInstance(error) && error.code === 'E_SESSION_DATA_TOO_LARGE'
  }
}
