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

/** The constructor arguments of a defined error: `options` may be left out only when it has no required field. */
export type DefinedErrorArgs<Fields extends object> = {} extends Fields
  ? [message: string, options?: XErrorOptions & Fields]
  : [message: string, options: XErrorOptions & Fields]

/** An instance of a class made by `defineError`: its code and its fields, readonly. */
export type DefinedErrorInstance<C extends string, Fields extends object> = XError & {
  readonly code: C
} & Readonly<Fields>

/** The class `defineError` returns; extend it to give the error its own name in stack traces and docs. */
export interface DefinedError<C extends string, Fields extends object> {
  new (...args: DefinedErrorArgs<Fields>): DefinedErrorInstance<C, Fields>
  readonly prototype: DefinedErrorInstance<C, Fields>
  readonly code: C
  /**
   * True for an error of this code from any install of the package (brand + code, not the
   * prototype chain). Narrows to the class it is called on, so a subclass gets its own type.
   */
  isInstance<T extends abstract new (...args: never) => unknown>(
    this: T,
    error: unknown,
  ): error is T extends abstract new (...args: never) => infer I ? I : never
}

/**
 * Builds an error class with a stable code and typed, readonly fields passed beside `cause`:
 *
 * ```ts fragment
 * class LockTimeoutError extends defineError<'E_LOCK_TIMEOUT', { resource: string; waitedMs: number }>(
 *   'E_LOCK_TIMEOUT',
 *   'LockTimeoutError',
 * ) {}
 * throw new LockTimeoutError('lock is busy', { resource, waitedMs })
 * ```
 *
 * `LockTimeoutError.isInstance(error)` checks the brand and the code, so it survives duplicate
 * installs, and narrows to `LockTimeoutError` with its fields.
 */
export function defineError<const C extends string, Fields extends object = {}>(
  code: C,
  name: string,
): DefinedError<C, Fields> {
  class Defined extends XError {
    static readonly code: C = code

    constructor(message: string, options?: XErrorOptions & Fields) {
      super(code, message, options)
      this.name = name
      if (options === undefined) return
      for (const field of Object.keys(options)) {
        if (field === 'cause') continue
        Object.defineProperty(this, field, {
          value: (options as Record<string, unknown>)[field],
          enumerable: true,
          writable: false,
        })
      }
    }

    static override isInstance(error: unknown): error is XError {
      return XError.isInstance(error) && error.code === code
    }
  }
  return Defined as unknown as DefinedError<C, Fields>
}

/**
 * Redis could not be reached: connection refused, closed, not ready, or our password refused.
 * `address` is `host:port` (never with a password), `rootCause` the underlying code
 * (`ECONNREFUSED`, `ENOTFOUND`, `ETIMEDOUT`, `WRONGPASS`, `NOAUTH`, …), and `neverConnected` tells
 * a client that never reached the server (wrong address or credentials) from one that lost it.
 */
export class RedisUnavailableError extends defineError<
  'E_REDIS_UNAVAILABLE',
  { address?: string; rootCause?: string; neverConnected?: boolean }
>('E_REDIS_UNAVAILABLE', 'RedisUnavailableError') {}

/**
 * An operation did not finish within its timeout. `timeoutMs` is the deadline that passed; it is
 * missing only when the timeout came from the client's own `commandTimeout`, which ioredis does not
 * report.
 */
export class TimeoutError extends defineError<'E_TIMEOUT', { timeoutMs?: number }>(
  'E_TIMEOUT',
  'TimeoutError',
) {}

/** Stored data could not be decoded (corrupt, truncated or written in another format). */
export class DecodeError extends defineError('E_DECODE', 'DecodeError') {}

/** A value could not be encoded (`undefined`, BigInt, a cycle, a function). */
export class EncodeError extends defineError('E_ENCODE', 'EncodeError') {}

/** An argument was rejected before anything was sent to Redis. */
export class InvalidArgumentError extends defineError('E_INVALID_ARGUMENT', 'InvalidArgumentError') {}
