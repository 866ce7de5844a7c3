import { type Codec, createRedis, DecodeError, InvalidArgumentError } from '@x/redis-core'
import { eventually, targets, useRedis } from '@x/testkit/vitest'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { z } from 'zod'
import type { PubSub } from './create-pubsub.js'
import { SchemaError } from './errors.js'
import { collector, createListened } from './test-support.js'
import type { InvalidMessage, PubSubEvents, PubSubOptions } from './types.js'

const Order = z.object({ id: z.string(), amount: z.number().positive() })
type Order = z.infer<typeof Order>

describe.each(targets())('typed channels and malformed messages on $name', (target) => {
  const redis = useRedis(target, createRedis)
  let raw: ReturnType<typeof target.client>
  const instances: PubSub[] = []
  let counter = 0
  const channel = (label = 'typed') => `${target.prefix}:${label}:${++counter}`

  const make = (extra: Partial<PubSubOptions> = {}, listeners: Parameters<typeof createListened>[1] = {}) => {
    const pubsub = createListened({ redis, ...extra }, { error: () => {}, ...listeners })
    instances.push(pubsub)
    return pubsub
  }

  beforeAll(() => {
    raw = target.client()
  })
  afterAll(async () => {
    await Promise.all(instances.map((pubsub) => pubsub.close()))
  })

  it('a typed channel validates with a zod schema on both ends', async () => {
    const pubsub = make()
    const orders = pubsub.channel('x', { schema: Order })
    const name = channel()
    const typed = pubsub.channel(name, { schema: Order })
    expect(orders.name).toBe('x')
    const received = collector<Order>()
    await typed.subscribe(received.handler)
    await typed.publish({ id: 'o1', amount: 3 })
    await eventually(() => received.messages.length === 1)
    expect(received.messages).toEqual([{ id: 'o1', amount: 3 }])
  })

  it('publishing a value that fails the schema throws InvalidArgumentError and publishes nothing', async () => {
    const pubsub = make()
    const name = channel()
    const typed = pubsub.channel(name, { schema: Order })
    const received = collector()
    await pubsub.subscribe(name, received.handler)
    const error = await typed.publish({ id: 'o1', amount: -1 }).catch((caught: unknown) => caught)
    expect(InvalidArgumentError.isInstance(error)).toBe(true)
    expect((error as Error).message).toContain('amount')
    expect(SchemaError.isInstance((error as Error).cause)).toBe(true)
    await expect(typed.publish(undefined as never)).rejects.toSatisfy(InvalidArgumentError.isInstance)
    await typed.publish({ id: 'ok', amount: 1 })
    await eventually(() => received.messages.length === 1)
    expect(received.messages).toEqual([{ id: 'ok', amount: 1 }])
  })

  it('a message that is not valid JSON goes to the invalid event with the raw payload; the process stays up', async () => {
    const invalid: InvalidMessage[] = []
    const pubsub = make({}, { invalid: (message) => void invalid.push(message) })
    const name = channel('garbage')
    const received = collector()
    await pubsub.subscribe(name, received.handler)
    await raw.publish(name, '{not json')
    await raw.publish(name, JSON.stringify({ fine: true }))
    await eventually(() => received.messages.length === 1 && invalid.length === 1)
    expect(invalid[0]).toMatchObject({ channel: name, raw: '{not json' })
    expect(DecodeError.isInstance(invalid[0]!.error)).toBe(true)
    expect(received.messages).toEqual([{ fine: true }])
  })

  it('a message failing the schema goes to the invalid event and handlers of other channels still run', async () => {
    const invalid: InvalidMessage[] = []
    const pubsub = make({}, { invalid: (message) => void invalid.push(message) })
    const name = channel()
    const other = channel()
    const typed = collector<Order>()
    const untyped = collector()
    const otherReceived = collector()
    await pubsub.channel(name, { schema: Order }).subscribe(typed.handler)
    await pubsub.subscribe(name, untyped.handler)
    await pubsub.subscribe(other, otherReceived.handler)
    await raw.publish(name, JSON.stringify({ id: 1 }))
    await raw.publish(other, JSON.stringify('other'))
    await eventually(
      () => invalid.length === 1 && untyped.messages.length === 1 && otherReceived.messages.length === 1,
    )
    expect(typed.messages).toEqual([])
    expect(invalid[0]!.channel).toBe(name)
    expect(invalid[0]!.raw).toBe('{"id":1}')
    expect(SchemaError.isInstance(invalid[0]!.error)).toBe(true)
    expect((invalid[0]!.error as SchemaError).issues.length).toBeGreaterThan(0)
    // The plain subscriber has no schema, so the same payload is fine for it.
    expect(untyped.messages).toEqual([{ id: 1 }])
  })

  it('an async schema is awaited before delivery', async () => {
    const pubsub = make()
    const name = channel()
    const AsyncOrder = Order.refine(async (order) => order.id !== 'banned')
    const invalid: InvalidMessage[] = []
    const received = collector<Order>()
    const strict = make({}, { invalid: (message) => void invalid.push(message) })
    await strict.channel(name, { schema: AsyncOrder }).subscribe(received.handler)
    await pubsub.publish(name, { id: 'banned', amount: 1 })
    await pubsub.publish(name, { id: 'fine', amount: 2 })
    await eventually(() => received.messages.length === 1 && invalid.length === 1)
    expect(received.messages).toEqual([{ id: 'fine', amount: 2 }])
  })

  it('decodes once per message whatever the number of handlers', async () => {
    let decodes = 0
    const counting: Codec<unknown> = {
      name: 'counting-json',
      encode: (value) => JSON.stringify(value),
      decode: (payload) => {
        decodes++
        return JSON.parse(String(payload))
      },
    }
    const pubsub = make({ codec: counting })
    const name = channel()
    const all = Array.from({ length: 10 }, () => collector())
    for (const { handler } of all) await pubsub.subscribe(name, handler)
    for (let index = 0; index < 5; index++) await pubsub.publish(name, index)
    await eventually(() => all.every(({ messages }) => messages.length === 5))
    expect(decodes).toBe(5)
  })

  it('a channel can bring its own codec', async () => {
    const upper: Codec<unknown> = {
      name: 'upper',
      encode: (value) => String(value).toUpperCase(),
      decode: (payload) => String(payload).toLowerCase(),
    }
    const pubsub = make()
    const name = channel()
    const typed = pubsub.channel<string>(name, { codec: upper })
    const received = collector<string>()
    const rawSeen: string[] = []
    await typed.subscribe(received.handler)
    await pubsub.subscribe(name, () => {})
    const spy = target.client()
    spy.on('message', (_channel, message) => void rawSeen.push(message))
    await spy.subscribe(name)
    await typed.publish('Hello')
    await eventually(() => received.messages.length === 1 && rawSeen.length === 1)
    expect(received.messages).toEqual(['hello'])
    expect(rawSeen).toEqual(['HELLO'])
  })

  it('an invalid listener that throws is reported once and does not break delivery', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      let calls = 0
      const pubsub = make(
        {},
        {
          invalid: () => {
            calls++
            throw new Error('bad hook')
          },
        },
      )
      const name = channel()
      const received = collector()
      await pubsub.subscribe(name, received.handler)
      await raw.publish(name, 'nope{')
      await raw.publish(name, '"yes"')
      await eventually(() => received.messages.length === 1 && calls === 1)
      await eventually(() => logged.mock.calls.length > 0)
      expect(logged.mock.calls.flat().join(' ')).toContain('bad hook')
    } finally {
      logged.mockRestore()
    }
  })

  it('without an invalid listener, a malformed message is an error event with operation "invalid"', async () => {
    const reported: Array<PubSubEvents['error']> = []
    const pubsub = make({}, { error: (payload) => void reported.push(payload) })
    const name = channel()
    await pubsub.subscribe(name, () => {})
    await raw.publish(name, '\u0000garbage')
    await eventually(() => reported.length === 1)
    expect(reported[0]).toMatchObject({ operation: 'invalid', key: name })
    expect(DecodeError.isInstance(reported[0]!.error)).toBe(true)
    expect(pubsub.stats().invalid).toBe(1)
  })

  it('rejects a schema that is not a Standard Schema', () => {
    const pubsub = make()
    expect(() => pubsub.channel(channel(), { schema: {} as never })).toThrow(InvalidArgumentError)
    expect(() => pubsub.channel('', {})).toThrow(InvalidArgumentError)
  })

  it('binary mode hands Buffers to a binary codec untouched, for channels, patterns and sharded channels', async () => {
    // Bytes that are not valid UTF-8: a string round trip would turn them into U+FFFD.
    const magic = Buffer.from([0xff, 0xfe, 0x00])
    const binaryCodec: Codec<unknown> = {
      name: 'magic-json',
      encode: (value) => Buffer.concat([magic, Buffer.from(JSON.stringify(value))]),
      decode: (payload) => {
        if (!Buffer.isBuffer(payload) || !payload.subarray(0, 3).equals(magic)) {
          throw new DecodeError('missing magic bytes')
        }
        return JSON.parse(payload.subarray(3).toString())
      },
    }
    const invalid: InvalidMessage[] = []
    const pubsub = make(
      { codec: binaryCodec, binary: true },
      { invalid: (message) => void invalid.push(message) },
    )
    const name = channel('bin')
    const shard = `{${name}}:s`
    const seen: Array<[unknown, string, string | undefined]> = []
    const record = (message: unknown, from: string, pattern?: string) =>
      void seen.push([message, from, pattern])
    await pubsub.subscribe(name, record)
    await pubsub.psubscribe(`${name}*`, record)
    await pubsub.ssubscribe(shard, record)
    await pubsub.publish(name, { a: 1 })
    await pubsub.spublish(shard, { s: 1 })
    await raw.publish(name, 'no magic')
    await eventually(() => seen.length === 3 && invalid.length === 2)
    expect(seen).toEqual(
      expect.arrayContaining([
        [{ a: 1 }, name, undefined],
        [{ a: 1 }, name, `${name}*`],
        [{ s: 1 }, shard, undefined],
      ]),
    )
    expect(Buffer.isBuffer(invalid[0]!.raw)).toBe(true)
    const subscriber = pubsub.connection!
    expect(subscriber.listenerCount('messageBuffer')).toBe(1)
    expect(subscriber.listenerCount('message')).toBe(0)
  })
})
