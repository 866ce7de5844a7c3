const BRAND = Symbol.for('@x/redis-core/error')

/** Stable error codes. Match on `code`, never on messages. */
export type XErrorCode =
  | 'E_REDIS_UNAVAILABLE'
  | 'E_TIMEOUT'
  | 'E_DECODE'
  | 'E_ENCODE'
  | 'E_INVALID_ARGUMENT'
  | (string & {})

export interface XErrorOptions {
  cause?: unknown
}

/**
 * Base class of every error thrown by @x packages.
 *
 * `instanceof` breaks when two copies of a package are installed, so checks go through
 * `XError.isInstance(error)` (and the subclasses' `isInstance`), which look at a `Symbol.for`
 * brand and the stable `code` instead of the prototype chain.
 */
export class XError extends Error {
  readonly code: XErrorCode

  constructor(code: XErrorCode, message: string, options: XErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'XError'
    this.code = code
    // Defined here rather than as a typed member, so declaration files of subclasses in other
    // packages never have to name the symbol.
    Object.defineProperty(this, BRAND, { value: true })
  }

  static isInstance(error: unknown): error is XError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[BRAND] === true
  }
}

/**
 * Builds a subclass whose `isInstance` checks the brand and the code, so it survives duplicate installs.
 * Pattern packages use it for their own errors: `class LockTimeoutError extends defineError('E_LOCK_TIMEOUT', 'LockTimeoutError') {}`.
 */
export function defineError<const C extends string>(code: C, name: string) {
  return class extends XError {
    static readonly code: C = code
    declare readonly code: C

    constructor(message: string, options: XErrorOptions = {}) {
      super(code, message, options)
      this.name = name
    }

    static override isInstance(error: unknown): error is XError & { code: C } {
      return XError.isInstance(error) && error.code === code
    }
  }
}

/** Redis could not be reached: connection refused, closed, or not ready. */
export class RedisUnavailableError extends defineError('E_REDIS_UNAVAILABLE', 'RedisUnavailableError') {}

/** An operation did not finish within its configured timeout. */
export class TimeoutError extends defineError('E_TIMEOUT', 'TimeoutError') {}

/** Stored data could not be decoded (corrupt, truncated or written in another format). */
export class DecodeError extends defineError('E_DECODE', 'DecodeError') {}

/** A value could not be encoded (`undefined`, BigInt, a cycle, a function). */
export class EncodeError extends defineError('E_ENCODE', 'EncodeError') {}

/** An argument was rejected before anything was sent to Redis. */
export class InvalidArgumentError extends defineError('E_INVALID_ARGUMENT', 'InvalidArgumentError') {}
