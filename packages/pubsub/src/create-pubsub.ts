import {
  assertPositive,
  type Codec,
  closeRedis,
  DecodeError,
  InvalidArgumentError,
  isCluster,
  jsonCodec,
  type RedisClient,
  redisCall,
  toRedisError,
} from '@x/redis-core'
import type { Cluster, Redis } from 'ioredis'
import { assertChannel } from './channel-name.js'
import { createPublishRouter } from './cluster-publisher.js'
import { watchClusterSubscribers } from './cluster-reconnect.js'
import { HandlerError, PubSubClosedError, SchemaError } from './errors.js'
import { createDecoder, encodeMessage, encodeValue, type MessageDecoder } from './message-codec.js'
import { createMessageIterable, type IterateOptions, type MessageIterable } from './message-iterator.js'
import { formatIssues, type StandardSchemaV1 } from './standard-schema.js'
import { type Entry, type SubscriptionKind, SubscriptionRegistry } from './subscription-registry.js'
import type { ErrorContext, InvalidMessage, MessageHandler, PubSubOptions, Unsubscribe } from './types.js'

export interface ChannelOptions<T> {
  /** Validates received messages (failures go to onInvalid) and published ones (failures throw). */
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

export interface PubSub {
  /** Publishes to a channel; resolves to the number of receivers (on a Cluster: on the node that took the PUBLISH). */
  publish(channel: string, message: unknown): Promise<number>
  /** SPUBLISH to a sharded channel. */
  spublish(channel: string, message: unknown): Promise<number>
  /** Resolves once the server acknowledged the subscription, to a function that removes it. */
  subscribe<T = unknown>(channel: string, handler: MessageHandler<T>): Promise<Unsubscribe>
  /** Glob-style pattern subscription; handlers get the actual channel and the pattern. */
  psubscribe<T = unknown>(pattern: string, handler: MessageHandler<T>): Promise<Unsubscribe>
  /** SSUBSCRIBE to a sharded channel. */
  ssubscribe<T = unknown>(channel: string, handler: MessageHandler<T>): Promise<Unsubscribe>
  /** An async iterable over a channel with a bounded buffer. */
  iterate<T = unknown>(channel: string, options?: IterateOptions): MessageIterable<T>
  /** A typed channel with its own codec and schema. */
  channel<T = unknown>(name: string, options?: ChannelOptions<T>): Channel<T>
  /** Current subscriptions (distinct names on the server) and the subscriber connection, for health checks. */
  stats(): {
    channels: number
    patterns: number
    shardedChannels: number
    subscriber: RedisClient | undefined
  }
  /** Unsubscribes everything, ends iterators' subscriptions, closes the owned subscriber connection. Idempotent. */
  close(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

/**
 * One multiplexed subscriber per instance: one connection, one listener per message event, and a
 * reference-counted table of channel → handlers, so any number of subscriptions costs one map
 * lookup per message and a channel is SUBSCRIBEd once however many handlers it has.
 */
export function createPubSub(options: PubSubOptions): PubSub {
  const { redis } = options
  if (redis === null || typeof redis !== 'object' || typeof redis.publish !== 'function') {
    throw new InvalidArgumentError('createPubSub: options.redis must be an ioredis Redis or Cluster client')
  }
  const codec = options.codec ?? jsonCodec
  const timeoutMs = assertPositive('timeoutMs', options.timeoutMs ?? 2000)
  const onError = options.onError ?? defaultOnError
  const onReconnect = options.onReconnect
  const defaultDecoder = createDecoder(codec)
  const publishCall = makeCaller(redis, timeoutMs)
  const publisherFor = createPublishRouter(redis)
  /** Channel names already validated, so the hot publish path skips the byte-length and regex checks. */
  const validChannels = new Set<string>()

  let closed = false
  /** Open iterators, ended by close() so no `for await` waits forever on a closed instance. */
  const iterators = new Set<MessageIterable<unknown>>()
  let closing: Promise<void> | undefined
  let subscriber: RedisClient | undefined
  const ownsSubscriber = options.subscriber === undefined

  const report = (error: unknown, context: ErrorContext) => {
    try {
      onError(error, context)
    } catch (listenerError) {
      console.error('[@x/pubsub] onError threw', listenerError, 'while reporting', error)
    }
  }

  const onInvalid =
    options.onInvalid ??
    ((invalid: InvalidMessage) =>
      report(invalid.error, {
        source: 'invalid',
        channel: invalid.channel,
        ...(invalid.pattern === undefined ? {} : { pattern: invalid.pattern }),
      }))

  const reportInvalid = (
    channel: string,
    raw: string | Buffer,
    error: unknown,
    pattern: string | undefined,
  ) => {
    const invalid: InvalidMessage = { channel, raw, error }
    if (pattern !== undefined) invalid.pattern = pattern
    try {
      onInvalid(invalid)
    } catch (listenerError) {
      report(listenerError, { source: 'invalid', channel })
    }
  }

  const reportHandler = (error: unknown, channel: string, pattern: string | undefined) => {
    const context: ErrorContext = { source: 'handler', channel }
    if (pattern !== undefined) context.pattern = pattern
    report(new HandlerError(`a handler of channel "${channel}" failed`, { cause: error }), context)
  }

  const runHandlers = (
    handlers: ReadonlyArray<MessageHandler<never>>,
    value: unknown,
    channel: string,
    pattern: string | undefined,
  ) => {
    for (const handler of handlers) {
      try {
        const result = (handler as MessageHandler<unknown>)(value, channel, pattern) as unknown
        if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
          ;(result as Promise<void>).then(undefined, (error: unknown) =>
            reportHandler(error, channel, pattern),
          )
        }
      } catch (error) {
        reportHandler(error, channel, pattern)
      }
    }
  }

  const validated = (
    result: StandardSchemaV1.Result<unknown>,
    handlers: ReadonlyArray<MessageHandler<never>>,
    channel: string,
    raw: string | Buffer,
    pattern: string | undefined,
  ) => {
    if (result.issues) {
      const detail = formatIssues(result.issues)
      reportInvalid(
        channel,
        raw,
        new SchemaError(`message does not match the schema: ${detail}`, result.issues),
        pattern,
      )
    } else {
      runHandlers(handlers, result.value, channel, pattern)
    }
  }

  const deliver = (entry: Entry, channel: string, raw: string | Buffer, pattern: string | undefined) => {
    // One snapshot for the whole delivery: handlers that (un)subscribe meanwhile change the next message's.
    const groups = entry.groups
    for (const group of groups) {
      let value: unknown
      try {
        value = group.decoder.codec.decode(raw)
      } catch (error) {
        reportInvalid(channel, raw, DecodeError.isInstance(error) ? error : wrapDecode(error), pattern)
        continue
      }
      const schema = group.decoder.schema
      if (schema === undefined) {
        runHandlers(group.handlers, value, channel, pattern)
        continue
      }
      const handlers = group.handlers
      try {
        const result = schema['~standard'].validate(value)
        if (result instanceof Promise) {
          result.then(
            (settled) => validated(settled, handlers, channel, raw, pattern),
            (error: unknown) => reportInvalid(channel, raw, error, pattern),
          )
        } else {
          validated(result, handlers, channel, raw, pattern)
        }
      } catch (error) {
        reportInvalid(channel, raw, error, pattern)
      }
    }
  }

  const registry = new SubscriptionRegistry(() => connectSubscriber(), timeoutMs)

  const onMessage = (channel: string, raw: string) => {
    const entry = registry.channels.get(channel)
    if (entry !== undefined) deliver(entry, channel, raw, undefined)
  }
  const onPatternMessage = (pattern: string, channel: string, raw: string) => {
    const entry = registry.patterns.get(pattern)
    if (entry !== undefined) deliver(entry, channel, raw, pattern)
  }
  const onShardMessage = (channel: string, raw: string) => {
    const entry = registry.shards.get(channel)
    if (entry !== undefined) deliver(entry, channel, raw, undefined)
  }
  // Binary mode: ioredis's *Buffer events hand over the payload untouched (no UTF-8 round trip).
  const onMessageBuffer = (channel: Buffer, raw: Buffer) =>
    onMessage(channel.toString(), raw as unknown as string)
  const onPatternMessageBuffer = (pattern: string | Buffer, channel: Buffer, raw: Buffer) =>
    onPatternMessage(pattern.toString(), channel.toString(), raw as unknown as string)
  const onShardMessageBuffer = (channel: Buffer, raw: Buffer) =>
    onShardMessage(channel.toString(), raw as unknown as string)
  const binary = options.binary === true
  const events = binary
    ? ([
        ['messageBuffer', onMessageBuffer],
        ['pmessageBuffer', onPatternMessageBuffer],
        ['smessageBuffer', onShardMessageBuffer],
      ] as const)
    : ([
        ['message', onMessage],
        ['pmessage', onPatternMessage],
        ['smessage', onShardMessage],
      ] as const)
  const onConnectionError = (error: Error) => report(toRedisError(error), { source: 'connection' })

  let everReady = false
  let resubscribing: Promise<void> | undefined
  let resubscribeAgain = false
  /** Restores every subscription on a new connection, then tells the app; coalesces bursts of triggers. */
  const resubscribe = () => {
    if (closed) return
    if (resubscribing) {
      resubscribeAgain = true
      return
    }
    resubscribing = Promise.allSettled(registry.resyncAll()).then((results) => {
      for (const result of results) {
        if (result.status === 'rejected') report(result.reason, { source: 'resubscribe' })
      }
      resubscribing = undefined
      if (resubscribeAgain) {
        resubscribeAgain = false
        resubscribe()
        return
      }
      if (closed || onReconnect === undefined) return
      try {
        onReconnect(registry.counts())
      } catch (error) {
        report(error, { source: 'resubscribe' })
      }
    })
  }
  const onReady = () => {
    if (!everReady) {
      everReady = true
      return
    }
    resubscribe()
  }

  function connectSubscriber(): RedisClient {
    if (subscriber !== undefined) return subscriber
    const client = options.subscriber ?? duplicateForSubscriptions(redis)
    everReady = client.status === 'ready'
    for (const [event, listener] of events)
      client.on(event, listener as unknown as (...args: unknown[]) => void)
    // On a Cluster 'ready' only follows a reconnect of the whole client; node-level switches need the watcher.
    if (!(ownsSubscriber && isCluster(client) && watchClusterSubscribers(client as Cluster, resubscribe)))
      client.on('ready', onReady)
    if (ownsSubscriber) client.on('error', onConnectionError)
    subscriber = client
    return client
  }

  const assertOpen = () => {
    if (closed) throw new PubSubClosedError('this pub/sub instance is closed')
  }

  const addSubscription = async (
    kind: SubscriptionKind,
    name: string,
    decoder: MessageDecoder,
    handler: MessageHandler<never>,
  ): Promise<Unsubscribe> => {
    assertOpen()
    assertChannel(kind === 'pattern' ? 'pattern' : 'channel', name)
    if (typeof handler !== 'function') throw new InvalidArgumentError('handler must be a function')
    const entry = registry.add(kind, name, decoder, handler)
    try {
      await registry.sync(entry)
    } catch (error) {
      registry.remove(entry, decoder, handler)
      registry
        .sync(entry)
        .catch((cleanupError: unknown) => report(cleanupError, { source: 'unsubscribe', channel: name }))
      throw error
    }
    let removed: Promise<void> | undefined
    return () => {
      removed ??= (() => {
        registry.remove(entry, decoder, handler)
        if (closed) return Promise.resolve()
        return registry.sync(entry).catch((error: unknown) => {
          report(
            error,
            kind === 'pattern'
              ? { source: 'unsubscribe', pattern: name }
              : { source: 'unsubscribe', channel: name },
          )
        })
      })()
      return removed
    }
  }

  const publishTo = (command: 'publish' | 'spublish', channel: string, message: unknown): Promise<number> => {
    let payload: string | Buffer
    try {
      assertOpen()
      if (!validChannels.has(channel)) {
        assertChannel('channel', channel)
        // Bounded: a service publishing to unbounded distinct names just revalidates.
        if (validChannels.size >= 4096) validChannels.clear()
        validChannels.add(channel)
      }
      payload = encodeValue(codec, message)
    } catch (error) {
      return Promise.reject(error)
    }
    const client = command === 'publish' ? publisherFor(channel) : redis
    return publishCall(
      client[command](channel, payload) as Promise<number>,
      command === 'publish' ? 'PUBLISH' : 'SPUBLISH',
    )
  }

  const iterateWith = <T>(
    kind: SubscriptionKind,
    name: string,
    decoder: MessageDecoder,
    iterateOptions: IterateOptions,
  ) => {
    assertOpen()
    assertChannel('channel', name)
    const iterable = createMessageIterable<T>(
      (push) => addSubscription(kind, name, decoder, push as MessageHandler<never>),
      iterateOptions,
      // Deferred: an already aborted signal ends the iterable while it is being created.
      () => queueMicrotask(() => iterators.delete(iterable)),
    )
    iterators.add(iterable)
    return iterable
  }

  const pubsub: PubSub = {
    publish: (channel, message) => publishTo('publish', channel, message),
    spublish: (channel, message) => publishTo('spublish', channel, message),
    subscribe: (channel, handler) =>
      addSubscription('channel', channel, defaultDecoder, handler as MessageHandler<never>),
    psubscribe: (pattern, handler) =>
      addSubscription('pattern', pattern, defaultDecoder, handler as MessageHandler<never>),
    ssubscribe: (channel, handler) =>
      addSubscription('shard', channel, defaultDecoder, handler as MessageHandler<never>),
    iterate: (channel, iterateOptions = {}) =>
      iterateWith('channel', channel, defaultDecoder, iterateOptions),
    channel<T>(name: string, channelOptions: ChannelOptions<T> = {}): Channel<T> {
      assertChannel('channel', name)
      const decoder = createDecoder(channelOptions.codec ?? codec, channelOptions.schema)
      const sharded = channelOptions.sharded === true
      const kind: SubscriptionKind = sharded ? 'shard' : 'channel'
      const command = sharded ? 'spublish' : 'publish'
      return {
        name,
        sharded,
        async publish(message) {
          assertOpen()
          const payload = await encodeMessage(decoder, message)
          const client = sharded ? redis : publisherFor(name)
          return publishCall(client[command](name, payload) as Promise<number>, command.toUpperCase())
        },
        subscribe: (handler) => addSubscription(kind, name, decoder, handler as MessageHandler<never>),
        iterate: (iterateOptions = {}) => iterateWith<T>(kind, name, decoder, iterateOptions),
      }
    },
    stats: () => ({ ...registry.counts(), subscriber }),
    close() {
      closing ??= (async () => {
        closed = true
        await Promise.all([...iterators].map((iterable) => iterable.close()))
        const client = subscriber
        if (client === undefined) return
        client.off('ready', onReady)
        if (ownsSubscriber) {
          // Closing the connection drops every subscription at once; no UNSUBSCRIBE round trips.
          await closeRedis(client, { timeoutMs })
          // Keep an 'error' listener: a late socket error on an emitter without one would crash the process.
          client.on('error', ignore)
          client.off('error', onConnectionError)
        } else {
          const pending: Array<Promise<void>> = []
          for (const table of [registry.channels, registry.patterns, registry.shards]) {
            for (const entry of table.values()) {
              registry.clear(entry)
              pending.push(
                registry
                  .sync(entry)
                  .catch((error: unknown) => report(error, { source: 'unsubscribe', channel: entry.name })),
              )
            }
          }
          await Promise.all(pending)
        }
        for (const [event, listener] of events)
          client.off(event, listener as unknown as (...args: unknown[]) => void)
      })()
      return closing
    },
    [Symbol.asyncDispose]() {
      return pubsub.close()
    },
  }
  return pubsub
}

/**
 * A dedicated subscriber connection. On a Cluster it is a Cluster with sharded subscribers enabled
 * (one connection per master for SSUBSCRIBE, ioredis routes by slot); on a server, ioredis's own
 * resubscribe is off because this package resubscribes from its table and then calls onReconnect.
 */
function duplicateForSubscriptions(redis: RedisClient): RedisClient {
  if (isCluster(redis)) return (redis as Cluster).duplicate([], { shardedSubscribers: true })
  return (redis as Redis).duplicate({ autoResubscribe: false, lazyConnect: false })
}

/**
 * When the client already enforces a command timeout (createRedis does), a second timer per publish
 * only costs throughput; otherwise wrap each call with our own.
 */
function makeCaller(
  redis: RedisClient,
  timeoutMs: number,
): <T>(promise: Promise<T>, what: string) => Promise<T> {
  const own = isCluster(redis)
    ? (redis as Cluster).options.redisOptions?.commandTimeout
    : (redis as Redis).options.commandTimeout
  if (own !== undefined && own > 0 && own <= timeoutMs) {
    return (promise) =>
      promise.catch((error: unknown) => {
        throw toRedisError(error)
      })
  }
  return (promise, what) => redisCall(promise, timeoutMs, what)
}

function wrapDecode(error: unknown): DecodeError {
  return new DecodeError(
    `message could not be decoded: ${error instanceof Error ? error.message : String(error)}`,
    {
      cause: error,
    },
  )
}

function ignore(): void {}

function defaultOnError(error: unknown, context: ErrorContext): void {
  console.error(
    `[@x/pubsub] ${context.source} error${context.channel ? ` on "${context.channel}"` : ''}:`,
    error,
  )
}
