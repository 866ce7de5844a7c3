import type { RedisClient } from '@x/redis-core'
import { redisCall, waitForReady } from '@x/redis-core'
import type { MessageDecoder } from './message-codec.js'
import type { MessageHandler } from './types.js'

export type SubscriptionKind = 'channel' | 'pattern' | 'shard'

/**
 * Handlers that share one decoder; the value is decoded once for all of them. Immutable: a change
 * builds new groups, so a delivery that started with one snapshot finishes with it whatever its
 * handlers subscribe or unsubscribe meanwhile.
 */
export interface HandlerGroup {
  readonly decoder: MessageDecoder
  readonly handlers: ReadonlyArray<MessageHandler<never>>
}

export interface Entry {
  readonly kind: SubscriptionKind
  readonly name: string
  /** The snapshot a message is delivered to: every subscription live when it arrived. */
  groups: readonly HandlerGroup[]
  /** decoder → handler → number of live subscriptions of it (the same function twice is delivered once). */
  readonly counts: Map<MessageDecoder, Map<MessageHandler<never>, number>>
  /** Live subscriptions, all groups together. */
  refs: number
  /** What we believe the server has. After a failed or timed-out command we assume "subscribed" so a later sync cleans up. */
  onServer: boolean
  /** Every SUBSCRIBE/UNSUBSCRIBE of this name runs on this chain, one at a time. */
  tail: Promise<void>
  queued: number
}

const COMMANDS = {
  channel: { on: 'subscribe', off: 'unsubscribe' },
  pattern: { on: 'psubscribe', off: 'punsubscribe' },
  shard: { on: 'ssubscribe', off: 'sunsubscribe' },
} as const

/**
 * The reference-counted subscription table. Changes to the handler sets are synchronous; bringing
 * the server in line ("sync") is serialized per name and always compares what is wanted now (any
 * handlers left?) with what the server has, so any interleaving of subscribe and unsubscribe calls
 * converges to the right server state with at most one command per transition.
 */
export class SubscriptionRegistry {
  readonly channels = new Map<string, Entry>()
  readonly patterns = new Map<string, Entry>()
  readonly shards = new Map<string, Entry>()

  constructor(
    private readonly subscriber: () => RedisClient,
    private readonly timeoutMs: number,
  ) {}

  table(kind: SubscriptionKind): Map<string, Entry> {
    return kind === 'channel' ? this.channels : kind === 'pattern' ? this.patterns : this.shards
  }

  /** Adds a handler locally; returns the entry to sync. */
  add(kind: SubscriptionKind, name: string, decoder: MessageDecoder, handler: MessageHandler<never>): Entry {
    const table = this.table(kind)
    let entry = table.get(name)
    if (entry === undefined) {
      entry = {
        kind,
        name,
        groups: [],
        counts: new Map(),
        refs: 0,
        onServer: false,
        tail: Promise.resolve(),
        queued: 0,
      }
      table.set(name, entry)
    }
    let handlers = entry.counts.get(decoder)
    if (handlers === undefined) {
      handlers = new Map()
      entry.counts.set(decoder, handlers)
    }
    const count = handlers.get(handler) ?? 0
    handlers.set(handler, count + 1)
    entry.refs++
    if (count === 0) rebuild(entry)
    return entry
  }

  /** Removes one subscription of a handler locally. */
  remove(entry: Entry, decoder: MessageDecoder, handler: MessageHandler<never>): void {
    const handlers = entry.counts.get(decoder)
    const count = handlers?.get(handler)
    if (handlers === undefined || count === undefined) return
    entry.refs--
    if (count > 1) {
      handlers.set(handler, count - 1)
      return
    }
    handlers.delete(handler)
    if (handlers.size === 0) entry.counts.delete(decoder)
    rebuild(entry)
  }

  /** Removes every subscription of an entry locally (close() on a subscriber the app owns). */
  clear(entry: Entry): void {
    entry.counts.clear()
    entry.refs = 0
    rebuild(entry)
  }

  /** Queues a sync of `entry` behind the ones already queued for its name. */
  sync(entry: Entry): Promise<void> {
    entry.queued++
    const run = entry.tail.then(() => this.apply(entry))
    const settled = run.then(
      () => this.settle(entry),
      () => this.settle(entry),
    )
    entry.tail = settled
    return run
  }

  /** Forget what the server had (a new connection has nothing) and queue a resync of every entry. */
  resyncAll(): Array<Promise<void>> {
    const entries = [...this.channels.values(), ...this.patterns.values(), ...this.shards.values()]
    for (const entry of entries) entry.onServer = false
    return entries.map((entry) => this.sync(entry))
  }

  counts(): { channels: number; patterns: number; shardedChannels: number } {
    return { channels: this.channels.size, patterns: this.patterns.size, shardedChannels: this.shards.size }
  }

  private async apply(entry: Entry): Promise<void> {
    const wanted = entry.refs > 0
    if (wanted === entry.onServer) return
    const client = this.subscriber()
    // waitForReady shares one wait between concurrent callers, so a burst of queued commands adds no
    // listeners per command.
    if (client.status !== 'ready') await waitForReady(client, this.timeoutMs)
    const command = wanted ? COMMANDS[entry.kind].on : COMMANDS[entry.kind].off
    const what = `${command.toUpperCase()} ${entry.name}`
    if (wanted) {
      // Unknown outcome (timeout) counts as subscribed, so a later sync sends the UNSUBSCRIBE.
      entry.onServer = true
      await redisCall(client[command](entry.name) as Promise<unknown>, this.timeoutMs, what)
    } else {
      await redisCall(client[command](entry.name) as Promise<unknown>, this.timeoutMs, what)
      entry.onServer = false
    }
  }

  private settle(entry: Entry): void {
    entry.queued--
    if (entry.queued === 0 && entry.refs === 0 && !entry.onServer) {
      const table = this.table(entry.kind)
      if (table.get(entry.name) === entry) table.delete(entry.name)
    }
  }
}

/** A new snapshot of the entry's groups, in the order their decoders were first subscribed. */
function rebuild(entry: Entry): void {
  const groups: HandlerGroup[] = []
  for (const [decoder, handlers] of entry.counts) groups.push({ decoder, handlers: [...handlers.keys()] })
  entry.groups = groups
}
