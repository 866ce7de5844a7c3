export { MAX_CHANNEL_BYTES, shardedChannel } from './channel-name.js'
export { type Channel, type ChannelOptions, createPubSub, type PubSub } from './create-pubsub.js'
export { HandlerError, OverflowError, PubSubClosedError, SchemaError } from './errors.js'
export type { IterateOptions, MessageIterable, OverflowPolicy } from './message-iterator.js'
export type { StandardSchemaV1 } from './standard-schema.js'
export {
  createStream,
  type DeadLetter,
  type Stream,
  type StreamConsumer,
  type StreamErrorContext,
  type StreamHandler,
  type StreamMessageInfo,
  type StreamOptions,
} from './stream.js'
export type {
  ErrorContext,
  ErrorSource,
  InvalidMessage,
  MessageHandler,
  PubSubOptions,
  ReconnectInfo,
  Unsubscribe,
} from './types.js'
