export {
  DecodeError,
  EncodeError,
  InvalidArgumentError,
  RedisUnavailableError,
  TimeoutError,
} from '@x/redis-core'
export { MAX_CHANNEL_BYTES, shardedChannel } from './channel-name.js'
export { createPubSub, type PubSub } from './create-pubsub.js'
export { HandlerError, OverflowError, PubSubClosedError, SchemaError } from './errors.js'
export type { IterateOptions, MessageIterable, OverflowPolicy } from './message-iterator.js'
export type { StandardSchemaV1 } from './standard-schema.js'
export { createStream } from './stream.js'
export type {
  DeadLetter,
  Stream,
  StreamConsumer,
  StreamConsumerStats,
  StreamEvents,
  StreamHandler,
  StreamMessageInfo,
  StreamOperation,
  StreamOptions,
} from './stream-types.js'
export type { Channel, ChannelOptions } from './typed-channel.js'
export type {
  InvalidMessage,
  MessageHandler,
  PubSubEvents,
  PubSubOperation,
  PubSubOptions,
  PubSubStats,
  ReconnectInfo,
  Unsubscribe,
} from './types.js'
