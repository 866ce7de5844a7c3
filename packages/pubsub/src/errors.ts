import { defineError } from '@x/redis-core'
import type { StandardSchemaV1 } from './standard-schema.js'

/** The pub/sub instance or stream was closed; no new subscriptions, publishes or consumers are accepted. */
export class PubSubClosedError extends defineError('E_PUBSUB_CLOSED', 'PubSubClosedError') {}

/** An async iterator's buffer was full and its overflow policy is `'error'`. */
export class OverflowError extends defineError<
  'E_PUBSUB_OVERFLOW',
  { channel: string; highWaterMark: number }
>('E_PUBSUB_OVERFLOW', 'OverflowError') {}

/** A message decoded fine but failed the channel's schema. `issues` are the Standard Schema issues. */
export class SchemaError extends defineError<
  'E_PUBSUB_SCHEMA',
  { issues: ReadonlyArray<StandardSchemaV1.Issue> }
>('E_PUBSUB_SCHEMA', 'SchemaError') {}

/** A subscriber handler threw or rejected; `cause` is what it threw. `pattern` is set for pattern subscriptions. */
export class HandlerError extends defineError<'E_PUBSUB_HANDLER', { channel: string; pattern?: string }>(
  'E_PUBSUB_HANDLER',
  'HandlerError',
) {}
