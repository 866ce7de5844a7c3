import { defineError, type XErrorOptions } from '@x/redis-core'
import type { StandardSchemaV1 } from './standard-schema.js'

// Each `isInstance` is narrowed to its own class (defineError's narrows to `XError & { code }`), so
// SchemaError.isInstance gives access to `issues`. The check itself is defineError's: brand and code.

const PubSubClosedBase = defineError('E_PUBSUB_CLOSED', 'PubSubClosedError')
const OverflowBase = defineError('E_PUBSUB_OVERFLOW', 'OverflowError')
const SchemaBase = defineError('E_PUBSUB_SCHEMA', 'SchemaError')
const HandlerBase = defineError('E_PUBSUB_HANDLER', 'HandlerError')

/** The pub/sub instance or stream was closed; no new subscriptions or publishes are accepted. */
export class PubSubClosedError extends PubSubClosedBase {
  static override isInstance(error: unknown): error is PubSubClosedError {
    return PubSubClosedBase.isInstance(error)
  }
}

/** An async iterator's buffer was full and its overflow policy is `'error'`. */
export class OverflowError extends OverflowBase {
  static override isInstance(error: unknown): error is OverflowError {
    return OverflowBase.isInstance(error)
  }
}

/** A message decoded fine but failed the channel's schema. `issues` are the Standard Schema issues. */
export class SchemaError extends SchemaBase {
  readonly issues: ReadonlyArray<StandardSchemaV1.Issue>
  constructor(message: string, issues: ReadonlyArray<StandardSchemaV1.Issue>, options: XErrorOptions = {}) {
    super(message, options)
    this.issues = issues
  }
  static override isInstance(error: unknown): error is SchemaError {
    return SchemaBase.isInstance(error)
  }
}

/** A subscriber handler threw or rejected; `cause` is what it threw. */
export class HandlerError extends HandlerBase {
  static override isInstance(error: unknown): error is HandlerError {
    return HandlerBase.isInstance(error)
  }
}
