import { createSubscriber, DecodeError, type RedisClient } from '@x/redis-core'

/** What one instance tells the others. Keys and prefixes are full Redis keys; never values. */
export interface InvalidationMessage {
  keys?: string[]
  tags?: string[]
  prefixes?: string[]
}

export interface InvalidationBusOptions {
  /** The cache's client; the bus subscribes on core's subscriber (its own connection) and publishes on it. */
  redis: RedisClient
  channel: string
  /** Identifies this instance, so it ignores its own messages. */
  origin: string
  /** Bounds the subscription's acknowledgement (and the connection's first ready). */
  redisTimeoutMs: number
  onMessage(message: InvalidationMessage): void
  /** The subscriber reconnected, or a message could not be read: messages may have been missed. */
  onReconnect(): void
  /** A message that is not ours, or a connection failure. */
  onError(error: unknown, operation: string): void
}

export interface InvalidationBus {
  /** Resolves once the subscription is acknowledged by the server. */
  readonly ready: Promise<void>
  close(): Promise<void>
}

type Wire = { o?: unknown; k?: unknown; t?: unknown; p?: unknown }

const isStringList = (list: unknown): list is string[] | undefined =>
  list === undefined || (Array.isArray(list) && list.every((item) => typeof item === 'string'))

/**
 * A small pub/sub channel that tells other instances which L1 keys to drop. It carries keys, not
 * values: a receiver that drops too much only pays a Redis read; one that kept a value it should
 * have dropped would serve stale data, so on a reconnect (messages possibly missed) or an unreadable
 * message, L1 is cleared.
 */
export function createInvalidationBus(options: InvalidationBusOptions): InvalidationBus {
  const { redis, channel, origin } = options
  // The first connection of a process competes with its whole start-up: more patience than a call.
  const subscriber = createSubscriber(redis, { redisTimeoutMs: Math.max(options.redisTimeoutMs, 10_000) })
  let closed = false

  subscriber.on('reconnected', () => {
    if (!closed) options.onReconnect()
  })
  subscriber.on('error', (event) => {
    if (!closed) options.onError(event.error, `bus ${event.operation}`)
  })

  const receive = (raw: string) => {
    let parsed: Wire
    try {
      parsed = JSON.parse(raw) as Wire
    } catch (error) {
      options.onError(
        new DecodeError(`malformed invalidation message on ${channel}`, { cause: error }),
        'bus',
      )
      options.onReconnect()
      return
    }
    if (parsed?.o === origin) return
    if (
      typeof parsed !== 'object' ||
      parsed === null ||
      !isStringList(parsed.k) ||
      !isStringList(parsed.t) ||
      !isStringList(parsed.p)
    ) {
      options.onError(new DecodeError(`malformed invalidation message on ${channel}`), 'bus')
      // We cannot tell what it meant to drop, so drop everything.
      options.onReconnect()
      return
    }
    options.onMessage({
      ...(parsed.k ? { keys: parsed.k } : {}),
      ...(parsed.t ? { tags: parsed.t } : {}),
      ...(parsed.p ? { prefixes: parsed.p } : {}),
    })
  }

  const ready = subscriber.subscribe(channel, receive).then(() => undefined)
  // The caller awaits `ready` if it cares; an unobserved failure must not become an unhandled rejection.
  ready.catch((error: unknown) => {
    if (!closed) options.onError(error, 'bus subscribe')
  })

  return {
    ready,
    async close() {
      closed = true
      await subscriber.close()
    },
  }
}

/** The wire form of a message (also used by instances that publish without subscribing). */
export function encodeInvalidation(origin: string, message: InvalidationMessage): string {
  return JSON.stringify({ o: origin, k: message.keys, t: message.tags, p: message.prefixes })
}
