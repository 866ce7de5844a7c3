import { XError, type XErrorOptions } from '@x/redis-core'
import type { StandardSchemaV1 } from './standard-schema.js'

// These extend XError directly instead of using core's defineError(): the anonymous class that
// defineError returns exposes core's private BRAND symbol, which fails declaration emit (TS4020)
// for classes exported from another package. The brand, code and isInstance behave the same.

/** The pub/sub instance or stream was closed; no new subscriptions or publishes are accepted. */
export class PubSubClosedError extends XError {
  static readonly code = 'E_PUBSUB_CLOSED'
  constructor(message: string, options: XErrorOptions = {}) {
    super(PubSubClosedError.code, message, options)
    this.name = 'PubSubClosedError'
  }
  static override isInstance(error: unknown): error is PubSubClosedError {
    return XError.isInstance(error) && error.code === PubSubClosedError.code
  }
}

/** An async iterator's buffer was full and its overflow policy is `'error'`. */
export class OverflowError extends XError {
  static readonly code = 'E_PUBSUB_OVERFLOW'
  constructor(message: string, options: XErrorOptions = {}) {
    super(OverflowError.code, message, options)
    this.name = 'OverflowError'
  }
  static override isInstance(error: unknown): error is OverflowError {
    return XError.isInstance(error) && error.code === OverflowError.code
  }
}

/** A message decoded fine but failed the channel's schema. `issues` are the Standard Schema issues. */
export class SchemaError extends XError {
  static readonly code = 'E_PUBSUB_SCHEMA'
  readonly issues: ReadonlyArray<StandardSchemaV1.Issue>
  constructor(message: string, issues: ReadonlyArray<StandardSchemaV1.Issue>, options: XErrorOptions = {}) {
    super(SchemaError.code, message, options)
    this.name = 'SchemaError'
    this.issues = issues
  }
  static override isInstance(error: unknown): error is SchemaError {
    return XError.isInstance(error) && error.code === SchemaError.code
  }
}

/** A subscriber handler threw or rejected; `cause` is what it threw. */
export class HandlerError extends XError {
  static readonly code = 'E_PUBSUB_HANDLER'
  constructor(message: string, options: XErrorOptions = {}) {
    super(HandlerError.code, message, options)
    this.name = 'HandlerError'
  }
  static override isInstance(error: unknown): error is HandlerError {
    return XError.isInstance(error) && error.code === HandlerError.code
  }
}
