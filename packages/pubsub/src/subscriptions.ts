import type { Subscriber, SubscriberUnsubscribe, SubscriptionKind } from '@x/redis-core'
import type { HandlerGroup } from './delivery.js'
import type { MessageDecoder } from './message-codec.js'
import type { MessageHandler, Unsubscribe } from './types.js'

export type { SubscriptionKind }

type Deliver = (
  groups: readonly HandlerGroup[],
  raw: string | Buffer,
  channel: string,
  pattern: string | undefined,
) => void

interface Entry {
  /** Immutable snapshot: a message goes to the handlers registered when it arrived. */
  groups: readonly HandlerGroup[]
  /** decoder → handler → live subscriptions of it (the same function twice is delivered once). */
  readonly counts: Map<MessageDecoder, Map<MessageHandler<never>, number>>
  /** The one listener this name has on the subscriber connection. */
  readonly listener: (raw: string | Buffer, channel: string, pattern: string | undefined) => void
}

const SUBSCRIBE = { channel: 'subscribe', pattern: 'psubscribe', shard: 'ssubscribe' } as const

/**
 * Handlers grouped by decoder per channel, on top of core's subscriber (which reference-counts
 * the server side): one listener per name on the connection, one decode per decoder per message.
 */
export function createSubscriptions(subscriber: Subscriber<string | Buffer>, deliver: Deliver) {
  const tables: Record<SubscriptionKind, Map<string, Entry>> = {
    channel: new Map(),
    pattern: new Map(),
    shard: new Map(),
  }

  const change = (entry: Entry, decoder: MessageDecoder, handler: MessageHandler<never>, delta: 1 | -1) => {
    let handlers = entry.counts.get(decoder)
    if (handlers === undefined) {
      handlers = new Map()
      entry.counts.set(decoder, handlers)
    }
    const count = (handlers.get(handler) ?? 0) + delta
    if (count > 0) handlers.set(handler, count)
    else handlers.delete(handler)
    if (handlers.size === 0) entry.counts.delete(decoder)
    if (count === 0 || (delta === 1 && count === 1)) {
      const groups: HandlerGroup[] = []
      for (const [each, list] of entry.counts) groups.push({ decoder: each, handlers: [...list.keys()] })
      entry.groups = groups
    }
  }

  const release = (kind: SubscriptionKind, name: string, entry: Entry) => {
    if (entry.counts.size === 0 && tables[kind].get(name) === entry) tables[kind].delete(name)
  }

  return {
    /** Resolves once the server acknowledged; on failure nothing is left behind. */
    async add(
      kind: SubscriptionKind,
      name: string,
      decoder: MessageDecoder,
      handler: MessageHandler<never>,
    ): Promise<Unsubscribe> {
      let entry = tables[kind].get(name)
      if (entry === undefined) {
        const created: Entry = {
          groups: [],
          counts: new Map(),
          listener: (raw, channel, pattern) => deliver(created.groups, raw, channel, pattern),
        }
        entry = created
        tables[kind].set(name, entry)
      }
      const own = entry
      change(own, decoder, handler, 1)
      let off: SubscriberUnsubscribe
      try {
        off = await subscriber[SUBSCRIBE[kind]](name, own.listener)
      } catch (error) {
        change(own, decoder, handler, -1)
        release(kind, name, own)
        throw error
      }
      let removed: Promise<void> | undefined
      return () => {
        removed ??= (() => {
          change(own, decoder, handler, -1)
          release(kind, name, own)
          return off()
        })()
        return removed
      }
    },
  }
}
