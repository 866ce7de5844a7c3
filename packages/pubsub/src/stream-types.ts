import type { Codec, RedisClient } from '@x/redis-core'
import type { StandardSchemaV1 } from './standard-schema.js'

export interface StreamOptions<T> {
  /** A `Redis` or a `Cluster`. */
  redis: RedisClient
  /**
   * The stream's name; with the prefix, the stream is `<prefix>:{<name>}` and its dead letters
   * `<prefix>:{<name>}:dead`: one hash tag, so moving a message to the dead letters is one atomic
   * script on a Cluster too.
   */
  name: string
  /** @default 'stream' */
  prefix?: string
  /** @default jsonCodec from @x/redis-core */
  codec?: Codec<unknown>
  /** Validates published messages (rejects) and consumed ones (invalid ones go to the dead letters). */
  schema?: StandardSchemaV1<unknown, T>
  /**
   * Retention: XADD trims the stream (and the dead letters) to about this many entries.
   * @default 10000
   */
  maxLen?: number
  /**
   * Trim exactly (`MAXLEN =`) instead of approximately (`MAXLEN ~`, which Redis does in whole
   * nodes: cheaper, but the stream may hold up to ~100 entries more than maxLen).
   * @default false
   */
  exactTrim?: boolean
  /**
   * Consumer group. Every group gets every message; consumers of one group share them.
   * @default 'default'
   */
  group?: string
  /**
   * This consumer's name inside the group. Must be unique per live process.
   * @default a random 10-character id
   */
  consumer?: string
  /**
   * A message whose handler failed this many times goes to the dead-letter stream.
   * @default 5
   */
  maxDeliveries?: number
  /**
   * A message pending (delivered, not acknowledged) for this long is taken over by another
   * consumer: its consumer crashed, hung, or its handler failed. Should exceed your slowest handler.
   * @default 30000
   */
  claimIdleMs?: number
  /**
   * How often a consumer looks for such messages.
   * @default min(claimIdleMs, 5000)
   */
  claimIntervalMs?: number
  /**
   * Longest XREADGROUP BLOCK; bounds how long stopping a consumer can take.
   * @default 1000
   */
  blockMs?: number
  /**
   * Messages read per XREADGROUP.
   * @default 16
   */
  batchSize?: number
  /**
   * Where a new group starts: `'beginning'` (every message still retained) or `'end'` (only new ones).
   * @default 'beginning'
   */
  startFrom?: 'beginning' | 'end'
  /**
   * Longest wait for one Redis command (not counting the blocking read). Ends in `TimeoutError` /
   * `RedisUnavailableError`.
   * @default 1000
   */
  redisTimeoutMs?: number
}

/** What was going on when a stream `error` event was emitted. */
export type StreamOperation = 'handler' | 'read' | 'ack' | 'reclaim' | 'dead-letter' | 'invalid'

export type StreamEvents = {
  /**
   * An error nobody could be thrown at: a failed handler, read, ack, reclaim or dead-lettering, or an
   * entry that does not decode. `key` is the stream key, `id` the entry id when there is one.
   * Default when nobody listens: one `console.error` line per operation and code every 10 s.
   */
  error: { operation: StreamOperation; error: unknown; key: string; id?: string }
  /** A message moved to the dead-letter stream (by this consumer or by its reclaim run). */
  deadLettered: { key: string; id: string; reason: DeadLetter['reason']; deliveries: number }
}

export interface StreamMessageInfo {
  /** The stream entry id. */
  id: string
  /** 1 on the first delivery; more when this message was reclaimed after a failure or a crash. */
  deliveries: number
}

export type StreamHandler<T> = (message: T, info: StreamMessageInfo) => void | Promise<void>

export interface DeadLetter {
  /** Id in the dead-letter stream. */
  id: string
  /** Id the message had in the stream. */
  originalId: string
  deliveries: number
  reason: 'max-deliveries' | 'invalid'
  error: string | undefined
  /** The encoded payload as stored. */
  raw: string | undefined
}

export interface StreamConsumerStats {
  /** Messages handled and acknowledged. */
  handled: number
  /** Handler failures (each failed delivery counts). */
  failed: number
  /** Messages moved to the dead letters by this consumer (reclaim runs included). */
  deadLettered: number
  /** Messages taken over from another consumer (or from a failed delivery of this one). */
  reclaimed: number
}

export interface StreamConsumer {
  /** Stops reading, lets the message being handled finish (and be acknowledged). Idempotent. */
  stop(): Promise<void>
  readonly running: boolean
  /** Counters of this consumer; a fresh object on each read. */
  readonly stats: StreamConsumerStats
}

export interface Stream<T> {
  readonly key: string
  readonly deadLetterKey: string
  /** XADD with MAXLEN; resolves to the entry id. One round trip. */
  publish(message: T): Promise<string>
  /** Starts a consumer: at-least-once delivery, acknowledged when the handler resolves. */
  consume(handler: StreamHandler<T>): StreamConsumer
  /** Reads dead letters, oldest first. */
  deadLetters(options?: { count?: number }): Promise<DeadLetter[]>
  /** `error` and `deadLettered`; returns a function that removes the listener. */
  on<K extends keyof StreamEvents>(event: K, listener: (payload: StreamEvents[K]) => void): () => void
  /** Stops every consumer started here. Idempotent. */
  close(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}
