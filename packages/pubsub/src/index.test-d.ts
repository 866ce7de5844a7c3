import type { RedisClient } from '@x/redis-core'
import { describe, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import {
  type Channel,
  createPubSub,
  createStream,
  DecodeError,
  EncodeError,
  HandlerError,
  InvalidArgumentError,
  type InvalidMessage,
  type MessageIterable,
  OverflowError,
  type PubSub,
  PubSubClosedError,
  type PubSubEvents,
  type PubSubOptions,
  type PubSubStats,
  RedisUnavailableError,
  SchemaError,
  type StandardSchemaV1,
  type Stream,
  type StreamEvents,
  type StreamOptions,
  TimeoutError,
} from './index.js'

declare const redis: RedisClient
declare const error: unknown

describe('@x/pubsub public types', () => {
  it('exports every error it can throw, each isInstance narrowing to its class with its fields', () => {
    if (HandlerError.isInstance(error)) {
      expectTypeOf(error).toEqualTypeOf<HandlerError>()
      expectTypeOf(error.channel).toEqualTypeOf<string>()
      expectTypeOf(error.pattern).toEqualTypeOf<string | undefined>()
      expectTypeOf(error.code).toEqualTypeOf<'E_PUBSUB_HANDLER'>()
    }
    if (OverflowError.isInstance(error)) {
      expectTypeOf(error.channel).toEqualTypeOf<string>()
      expectTypeOf(error.highWaterMark).toEqualTypeOf<number>()
    }
    if (SchemaError.isInstance(error))
      expectTypeOf(error.issues).toEqualTypeOf<ReadonlyArray<StandardSchemaV1.Issue>>()
    if (PubSubClosedError.isInstance(error)) expectTypeOf(error.code).toEqualTypeOf<'E_PUBSUB_CLOSED'>()
    if (TimeoutError.isInstance(error)) expectTypeOf(error.timeoutMs).toEqualTypeOf<number | undefined>()
    if (RedisUnavailableError.isInstance(error)) expectTypeOf(error).toEqualTypeOf<RedisUnavailableError>()
    if (InvalidArgumentError.isInstance(error)) expectTypeOf(error).toEqualTypeOf<InvalidArgumentError>()
    if (EncodeError.isInstance(error)) expectTypeOf(error).toEqualTypeOf<EncodeError>()
    if (DecodeError.isInstance(error)) expectTypeOf(error).toEqualTypeOf<DecodeError>()
  })

  it('takes one options object with millisecond durations and no callback options', () => {
    expectTypeOf<PubSubOptions['redisTimeoutMs']>().toEqualTypeOf<number | undefined>()
    expectTypeOf<PubSubOptions['redis']>().toEqualTypeOf<RedisClient>()
    // @ts-expect-error the old name is gone
    createPubSub({ redis, timeoutMs: 1000 })
    // @ts-expect-error events replaced the callback options
    createPubSub({ redis, onError: () => {} })
    expectTypeOf<StreamOptions<unknown>['redisTimeoutMs']>().toEqualTypeOf<number | undefined>()
    expectTypeOf<StreamOptions<unknown>['name']>().toEqualTypeOf<string>()
    expectTypeOf(createStream({ redis, name: 'jobs' })).toEqualTypeOf<Stream<unknown>>()
  })

  it('types event payloads and stats', () => {
    const pubsub = createPubSub({ redis })
    expectTypeOf(pubsub).toEqualTypeOf<PubSub>()
    pubsub.on('invalid', (payload) => {
      expectTypeOf(payload).toEqualTypeOf<InvalidMessage>()
    })
    pubsub.on('error', (payload) => {
      expectTypeOf(payload).toEqualTypeOf<PubSubEvents['error']>()
      expectTypeOf(payload.key).toEqualTypeOf<string | undefined>()
    })
    pubsub.on('reconnected', (payload) => expectTypeOf(payload.channels).toEqualTypeOf<number>())
    // @ts-expect-error no such event
    pubsub.on('message', () => {})
    expectTypeOf(pubsub.stats()).toEqualTypeOf<PubSubStats>()
    expectTypeOf<PubSubStats[keyof PubSubStats]>().toEqualTypeOf<number>()
    const stream = createStream({ redis, name: 'jobs' })
    stream.on('deadLettered', (payload) =>
      expectTypeOf(payload.reason).toEqualTypeOf<StreamEvents['deadLettered']['reason']>(),
    )
  })

  it('types channel payloads from the schema', () => {
    const pubsub = createPubSub({ redis })
    const orders = pubsub.channel('orders', { schema: z.object({ id: z.string(), total: z.number() }) })
    expectTypeOf(orders).toEqualTypeOf<Channel<{ id: string; total: number }>>()
    void orders.subscribe((order) => {
      expectTypeOf(order).toEqualTypeOf<{ id: string; total: number }>()
    })
    expectTypeOf(orders.iterate()).toEqualTypeOf<MessageIterable<{ id: string; total: number }>>()
    // @ts-expect-error the payload must match the schema's type
    void orders.publish({ id: 1 })
  })
})
