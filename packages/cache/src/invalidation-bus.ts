import { duplicateClient, type RedisClient, waitForReady } from '@x/redis-core'

/** What one instance tells the others. Keys and prefixes are full Redis keys; never values. */
export interface InvalidationMessage {
  keys?: string[]
  tags?: string[]
  prefixes?: string[]
}

export interface InvalidationBusOptions {
  /** The cache's client; the bus subscribes on a `duplicate()` of it and publishes on it. */
  redis: RedisClient
  channel: string
  /** Identifies this instance, so it ignores its own messages. */
  origin: string
  onMessage(message: InvalidationMessage): void
  /** The subscriber reconnected: messages may have been missed. */
  onReconnect(): void
  /** A message that is not ours, or a connection failure. */
  onError(error: unknown): void
}

export interface InvalidationBus {
  /** Resolves once the subscription is acknowledged by the server. */
  readonly ready: Promise<void>
  close(): void
}

/**
 * A small pub/sub channel that tells other instances which L1 keys to drop. It carries keys, not
 * values: a receiver that drops too much only pays a Redis read; one that kept a value it should
 * have dropped would serve stale data, so on a reconnect (messages possibly missed) L1 is cleared.
 */
export function createInvalidationBus(options: InvalidationBusOptions): InvalidationBus {
  const { redis, channel, origin } = options
  // A user client with autoResubscribe off would come back from a reconnect deaf to the channel.
  const subscriber = duplicateClient(redis, { autoResubscribe: true })
  let readyCount = 0
  let closed = false

  subscriber.on('error', (error: unknown) => {
    if (!closed) options.onError(error)
  })
  subscriber.on('ready', () => {
    readyCount++
    if (readyCount > 1 && !closed) options.onReconnect()
  })
  subscriber.on('message', (received: string, raw: string) => {
    if (received !== channel) return
    let parsed: { o?: unknown; k?: unknown; t?: unknown; p?: unknown }
    try {
      parsed = JSON.parse(raw) as typeof parsed
    } catch (error) {
      options.onError(new Error(`malformed invalidation message on ${channel}`, { cause: error }))
      options.onReconnect()
      return
    }
    if (parsed?.o === origin) return
    const valid = (list: unknown): list is string[] | undefined =>
      list === undefined || (Array.isArray(list) && list.every((item) => typeof item === 'string'))
    if (
      typeof parsed !== 'object' ||
      parsed === null ||
      !valid(parsed.k) ||
      !valid(parsed.t) ||
      !valid(parsed.p)
    ) {
      options.onError(new Error(`malformed invalidation message on ${channel}`))
      // We cannot tell what it meant to drop, so drop everything.
      options.onReconnect()
      return
    }
    options.onMessage({
      ...(parsed.k ? { keys: parsed.k } : {}),
      ...(parsed.t ? { tags: parsed.t } : {}),
      ...(parsed.p ? { prefixes: parsed.p } : {}),
    })
  })

  const ready = waitForReady(subscriber, 10_000)
    .then(() => subscriber.subscribe(channel))
    .then(() => undefined)
  // The caller awaits `ready` if it cares; an unobserved failure must not become an unhandled rejection.
  ready.catch((error: unknown) => {
    if (!closed) options.onError(error)
  })

  return {
    ready,
    close() {
      closed = true
      subscriber.disconnect()
    },
  }
}

/** The wire form of a message (also used by instances that publish without subscribing). */
export function encodeInvalidation(origin: string, message: InvalidationMessage): string {
  return JSON.stringify({ o: origin, k: message.keys, t: message.tags, p: message.prefixes })
}
