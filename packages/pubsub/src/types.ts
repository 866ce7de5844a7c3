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

/** A message that could not be decoded or failed the schema: the payload of the `invalid` event. */
export interface InvalidMessage {
  channel: string
  /** Set when the message arrived through a pattern subscription. */
  pattern?: string
  /** The payload exactly as received (a Buffer in binary mode). */
  raw: string | Buffer
  /** A `DecodeError` from the codec or a `SchemaError` from the schema. */
  error: unknown
}

/** What was going on when an `error` event was emitted. */
export type PubSubOperation = 'handler' | 'invalid' | 'unsubscribe' | 'resubscribe' | 'connection'

export type PubSubEvents = {
  /**
   * An error nobody could be thrown at: a handler that threw or rejected (`HandlerError`), a
   * malformed message nobody listens to `invalid` for, a failed unsubscribe or resubscribe, a
   * connection error of the subscriber connection. `key` is the channel or pattern.
   * Default when nobody listens: one `console.error` line per operation and code every 10 s.
   */
  error: { operation: PubSubOperation; error: unknown; key?: string }
  /**
   * A received message was not decodable or failed the schema. Handlers of its decoder are skipped
   * for it; other subscriptions are unaffected. Default when nobody listens: an `error` event.
   */
  invalid: InvalidMessage
  /**
   * The subscriber connection came back and every subscription was restored. Messages published
   * while it was away are lost (pub/sub is at-most-once): resynchronise from the source of truth.
   */
  reconnected: ReconnectInfo
}

export interface ReconnectInfo {
  /** Channels, patterns and sharded channels that were subscribed again. */
  channels: number
  patterns: number
  shardedChannels: number
}

/** `stats()`: counters since the instance was created, and gauges of now. No Redis call. */
export interface PubSubStats {
  /** Distinct channels, patterns and sharded channels subscribed now. */
  channels: number
  patterns: number
  shardedChannels: number
  /** Messages published (PUBLISH and SPUBLISH that Redis answered). */
  published: number
  /** Messages handed to at least one handler's decoder group that decoded and validated. */
  delivered: number
  /** Messages that failed to decode or failed the schema. */
  invalid: number
  /** Messages an iterator's full buffer dropped (its overflow policy). */
  dropped: number
  /** Handlers that threw or rejected. */
  handlerErrors: number
  /** Redis calls that failed (timeouts included). */
  redisErrors: number
  /** Times the subscriber connection came back and restored its subscriptions. */
  reconnects: number
}

export interface PubSubOptions {
  /** Publishes go through this client; subscriptions get their own duplicated connection. A `Redis` or a `Cluster`. */
  redis: RedisClient
  /**
   * Encodes published messages and decodes received ones (once per message and decoder, whatever
   * the number of handlers).
   * @default jsonCodec from @x/redis-core
   */
  codec?: Codec<unknown>
  /**
   * Hand payloads to the codec as Buffers instead of UTF-8 strings, for binary codecs such as
   * msgpack. Costs a channel-name `toString()` per message.
   * @default false
   */
  binary?: boolean
  /**
   * Longest wait for a PUBLISH, SUBSCRIBE or UNSUBSCRIBE reply (and for the subscriber connection
   * to be ready). Ends in `TimeoutError` / `RedisUnavailableError`.
   * @default 1000
   */
  redisTimeoutMs?: number
}
