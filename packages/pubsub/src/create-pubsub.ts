import {
  assertDuration,
  assertRedisClient,
  createEmitter,
  createSubscriber,
  createTracing,
  InvalidArgumentError,
  jsonCodec,
  type RedisClient,
} from '@x/redis-core'
import { assertChannel } from './channel-name.js'
import { createDelivery } from './delivery.js'
import { PubSubClosedError } from './errors.js'
import { createDecoder, encodeMessage, encodeValue, type MessageDecoder } from './message-codec.js'
import { createMessageIterable, type IterateOptions, type MessageIterable } from './message-iterator.js'
import { createPublisher, type PublishCommand } from './publisher.js'
import { createSubscriptions, type SubscriptionKind } from './subscriptions.js'
import type { Channel, ChannelOptions } from './typed-channel.js'
import type { MessageHandler, PubSubEvents, PubSubOptions, PubSubStats, Unsubscribe } from './types.js'

/** The context of `x:pubsub:publish`: names and counts, never the message. */
interface PublishTrace {
  channel: string
  sharded: boolean
  roundTrips: number
  outcome?: 'published'
  receivers?: number
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
  /** `error`, `invalid`, `reconnected`; returns a function that removes the listener. */
  on<K extends keyof PubSubEvents>(event: K, listener: (payload: PubSubEvents[K]) => void): () => void
  /** Counters and current subscriptions; no Redis call. */
  stats(): PubSubStats
  /** The subscriber connection (opened by the first subscribe), for health checks. */
  readonly connection: RedisClient | undefined
  /** Ends iterators, closes the subscriber connection (dropping every subscription at once). Idempotent. */
  close(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

/**
 * One multiplexed subscriber per instance: one connection (core's `createSubscriber`), one
 * listener per name on it, and handlers grouped by decoder, so any number of subscriptions costs
 * one map lookup per message and a channel is SUBSCRIBEd once however many handlers it has.
 */
export function createPubSub(options: PubSubOptions): PubSub {
  const { redis } = options
  assertRedisClient(redis, 'options.redis')
  const codec = options.codec ?? jsonCodec
  const redisTimeoutMs = assertDuration('redisTimeoutMs', options.redisTimeoutMs ?? 1000)
  const defaultDecoder = createDecoder(codec)
  // Nobody listening to `error`: core's default, one redacted console.error line per operation and code every 10 s.
  const emitter = createEmitter<PubSubEvents>({ name: '@x/pubsub' })
  const reportError = (payload: PubSubEvents['error']) => emitter.emit('error', payload)
  const tracing = createTracing('pubsub')
  const tracePublish = tracing.operation('publish')
  const traceSubscribe = tracing.operation('subscribe')
  const counters = {
    published: 0,
    delivered: 0,
    invalid: 0,
    dropped: 0,
    handlerErrors: 0,
    redisErrors: 0,
    reconnects: 0,
  }
  const countRedisError = () => {
    counters.redisErrors++
  }
  const publisher = createPublisher(redis, redisTimeoutMs)
  const subscriber = createSubscriber(redis, {
    sharded: true,
    binary: options.binary === true,
    redisTimeoutMs,
  })
  subscriber.on('error', ({ operation, error, key }) => {
    if (operation !== 'deliver') countRedisError()
    reportError({
      operation: operation === 'deliver' ? 'handler' : operation,
      error,
      ...(key === undefined ? {} : { key }),
    })
  })
  subscriber.on('reconnected', (info) => {
    counters.reconnects++
    emitter.emit('reconnected', info)
  })
  const deliver = createDelivery(tracing.operation('deliver'), {
    delivered() {
      counters.delivered++
    },
    invalid(channel, raw, error, pattern) {
      counters.invalid++
      if (!emitter.has('invalid'))
        return reportError({ operation: 'invalid', error, key: pattern ?? channel })
      emitter.emit('invalid', { channel, raw, error, ...(pattern === undefined ? {} : { pattern }) })
    },
    handlerFailed(error, channel, pattern) {
      counters.handlerErrors++
      reportError({ operation: 'handler', error, key: pattern ?? channel })
    },
  })
  const subscriptions = createSubscriptions(subscriber, deliver)

  let closed = false
  let closing: Promise<void> | undefined
  /** Open iterators, ended by close() so no `for await` waits forever on a closed instance. */
  const iterators = new Set<MessageIterable<unknown>>()

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
    if (!traceSubscribe.active) return subscriptions.add(kind, name, decoder, handler)
    const context = { channel: name, kind, outcome: 'subscribed', roundTrips: 1 }
    return traceSubscribe.trace(context, () => subscriptions.add(kind, name, decoder, handler))
  }

  /** Sends one encoded message, counted, and traced on `x:pubsub:publish` when someone listens. */
  const send = (command: PublishCommand, channel: string, payload: string | Buffer): Promise<number> => {
    // One promise per publish on the hot path: counting rides on the same then.
    if (!tracePublish.active)
      return publisher.send(command, channel, payload).then(countPublished, countFailed)
    const context: PublishTrace = { channel, sharded: command === 'spublish', roundTrips: 1 }
    return tracePublish.trace(context, () =>
      publisher.send(command, channel, payload).then((receivers) => {
        context.outcome = 'published'
        context.receivers = receivers
        return countPublished(receivers)
      }, countFailed),
    )
  }
  const countPublished = (receivers: number) => {
    counters.published++
    return receivers
  }
  const countFailed = (error: unknown): never => {
    counters.redisErrors++
    throw error
  }

  const publishTo = (command: PublishCommand, channel: string, message: unknown): Promise<number> => {
    let payload: string | Buffer
    try {
      assertOpen()
      publisher.check(channel)
      payload = encodeValue(codec, message)
    } catch (error) {
      return Promise.reject(error)
    }
    return send(command, channel, payload)
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
      name,
      (push) => addSubscription(kind, name, decoder, push as MessageHandler<never>),
      iterateOptions,
      () => {
        counters.dropped++
        deliver.dropped(name)
      },
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
      const command: PublishCommand = sharded ? 'spublish' : 'publish'
      return {
        name,
        sharded,
        async publish(message) {
          assertOpen()
          const payload = await encodeMessage(decoder, message)
          return send(command, name, payload)
        },
        subscribe: (handler) => addSubscription(kind, name, decoder, handler as MessageHandler<never>),
        iterate: (iterateOptions = {}) => iterateWith<T>(kind, name, decoder, iterateOptions),
      }
    },
    on: (event, listener) => emitter.on(event, listener),
    stats: () => ({ ...subscriber.counts(), ...counters }),
    get connection() {
      return subscriber.connection
    },
    close() {
      closing ??= (async () => {
        closed = true
        await Promise.all([...iterators].map((iterable) => iterable.close()))
        await subscriber.close()
      })()
      return closing
    },
    [Symbol.asyncDispose]() {
      return pubsub.close()
    },
  }
  return pubsub
}
