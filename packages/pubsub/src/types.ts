import type { Codec, RedisClient } from '@x/redis-core'

/**
 * Receives one decoded message. `pattern` is set for pattern subscriptions. Handlers of one channel
 * share the decoded value: treat it as read-only.
 */
export type MessageHandler<T = unknown> = (
  message: T,
  channel: string,
  pattern?: string,
) => void | Promise<void>

/** Removes one subscription; resolves once the server acknowledged (when it was the last one). Never rejects. */
export type Unsubscribe = () => Promise<void>

/** A message that could not be decoded or failed the schema. */
export interface InvalidMessage {
  channel: string
  /** Set when the message arrived through a pattern subscription. */
  pattern?: string
  /** The payload exactly as received (a Buffer in binary mode). */
  raw: string | Buffer
  /** A `DecodeError` from the codec or a `SchemaError` from the schema. */
  error: unknown
}

export type ErrorSource = 'handler' | 'invalid' | 'unsubscribe' | 'resubscribe' | 'connection'

export interface ErrorContext {
  source: ErrorSource
  channel?: string
  pattern?: string
}

export interface ReconnectInfo {
  /** Channels, patterns and sharded channels that were subscribed again. */
  channels: number
  patterns: number
  shardedChannels: number
}

export interface PubSubOptions {
  /** Publishes go through this client. A `Redis` or a `Cluster`. */
  redis: RedisClient
  /**
   * The connection subscriptions live on. It is never used for anything else and this instance
   * puts exactly one listener per message event on it.
   * @default redis.duplicate(), opened on the first subscribe and closed by close()
   */
  subscriber?: RedisClient
  /**
   * Encodes published messages and decodes received ones (once per message, whatever the number of handlers).
   * @default jsonCodec from @x/redis-core
   */
  codec?: Codec<unknown>
  /**
   * A received message was not decodable or failed the schema. Handlers of that channel are skipped
   * for it; other subscriptions are unaffected.
   * @default reports the error through onError with source 'invalid'
   */
  onInvalid?: (invalid: InvalidMessage) => void
  /**
   * Errors that cannot be thrown at a caller: a handler that threw or rejected (`HandlerError`), a
   * failed unsubscribe or resubscribe, connection errors of the owned subscriber connection.
   * @default console.error
   */
  onError?: (error: unknown, context: ErrorContext) => void
  /**
   * The subscriber connection came back and every subscription was restored. Messages published
   * while it was away are lost (pub/sub is at-most-once): resynchronise from the source of truth here.
   * @default no-op
   */
  onReconnect?: (info: ReconnectInfo) => void
  /**
   * Hand payloads to the codec as Buffers (ioredis's `messageBuffer` events) instead of UTF-8
   * strings, for binary codecs such as msgpack. Costs a channel-name `toString()` per message.
   * @default false
   */
  binary?: boolean
  /**
   * Longest wait for a PUBLISH, SUBSCRIBE or UNSUBSCRIBE reply (and for the subscriber connection
   * to be ready). Ends in `TimeoutError` / `RedisUnavailableError`.
   * @default 2000
   */
  timeoutMs?: number
}
