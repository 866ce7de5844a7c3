import type { Codec } from '@x/redis-core'
import type { IterateOptions, MessageIterable } from './message-iterator.js'
import type { StandardSchemaV1 } from './standard-schema.js'
import type { MessageHandler, Unsubscribe } from './types.js'

export interface ChannelOptions<T> {
  /** Validates received messages (failures go to the `invalid` event) and published ones (failures reject). */
  schema?: StandardSchemaV1<unknown, T>
  /** @default the instance's codec */
  codec?: Codec<unknown>
  /**
   * A sharded channel (SSUBSCRIBE / SPUBLISH): on a Cluster, its traffic stays on the shard that
   * owns its hash slot. Build names with `shardedChannel(tag, ...)` to co-locate related channels.
   * @default false
   */
  sharded?: boolean
}

/** A typed view of one channel. */
export interface Channel<T> {
  readonly name: string
  readonly sharded: boolean
  /** Validates with the schema, encodes with the codec, publishes; resolves to the number of receivers. */
  publish(message: T): Promise<number>
  subscribe(handler: MessageHandler<T>): Promise<Unsubscribe>
  iterate(options?: IterateOptions): MessageIterable<T>
}
