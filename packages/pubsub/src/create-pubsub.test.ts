import { createRedis, InvalidArgumentError, masters } from '@x/redis-core'
import { countCommands, eventually, targets, useRedis } from '@x/testkit/vitest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPubSub, type PubSub } from './create-pubsub.js'
import { HandlerError, PubSubClosedError } from './errors.js'
import { collector, createListened, numsub } from './test-support.js'
import type { PubSubEvents, PubSubOptions } from './types.js'

describe.each(targets())('createPubSub on $name', (target) => {
  const redis = useRedis(target, createRedis)
  let inspect: ReturnType<typeof target.client>
  const instances: PubSub[] = []
  const errors: Array<PubSubEvents['error']> = []
  let counter = 0
  const channel = (label = 'ch') => `${target.prefix}:${label}:${++counter}`

  const make = (extra: Partial<PubSubOptions> = {}, listeners: Parameters<typeof createListened>[1] = {}) => {
    const pubsub = createListened(
      { redis, ...extra },
      { error: (payload) => void errors.push(payload), ...listeners },
    )
    instances.push(pubsub)
    return pubsub
  }

  beforeAll(() => {
    inspect = target.client()
  })
  afterAll(async () => {
    await Promise.all(instances.map((pubsub) => pubsub.close()))
  })

  it('delivers a decoded message and publish returns the number of receivers', async () => {
    const pubsub = make()
    const name = channel()
    const received = collector<{ n: number }>()
    await pubsub.subscribe(name, received.handler)
    const receivers = await pubsub.publish(name, { n: 1 })
    // A Cluster node counts only its own subscribers; the message still reaches every node.
    if (target.name === 'server') expect(receivers).toBe(1)
    else expect([0, 1]).toContain(receivers)
    await eventually(() => received.messages.length === 1)
    expect(received.messages).toEqual([{ n: 1 }])
  })

  it('passes the channel name to the handler', async () => {
    const pubsub = make()
    const name = channel()
    const seen: string[] = []
    await pubsub.subscribe(name, (_message, from) => void seen.push(from))
    await pubsub.publish(name, 'x')
    await eventually(() => seen.length === 1)
    expect(seen).toEqual([name])
  })

  it('keeps exactly one message listener on the subscriber whatever the number of subscriptions', async () => {
    const pubsub = make()
    const names = Array.from({ length: 50 }, () => channel())
    const offs = await Promise.all(
      names.flatMap((name) => [pubsub.subscribe(name, () => {}), pubsub.subscribe(name, () => {})]),
    )
    const subscriber = pubsub.connection!
    expect(subscriber.listenerCount('message')).toBe(1)
    expect(subscriber.listenerCount('pmessage')).toBe(1)
    expect(subscriber.listenerCount('smessage')).toBe(1)
    expect(pubsub.stats().channels).toBe(50)
    await Promise.all(offs.map((off) => off()))
    expect(subscriber.listenerCount('message')).toBe(1)
    expect(pubsub.stats().channels).toBe(0)
  })

  it('receives a message published right after subscribe() resolved', async () => {
    const pubsub = make()
    const publisher = make()
    for (let round = 0; round < 20; round++) {
      const name = channel('race')
      const received = collector()
      await pubsub.subscribe(name, received.handler)
      await publisher.publish(name, round)
      await eventually(() => received.messages.length === 1)
      expect(received.messages).toEqual([round])
    }
  })

  it('subscribes a channel once on the server however many handlers it has', async () => {
    const pubsub = make()
    const name = channel()
    const offs = await Promise.all(Array.from({ length: 5 }, () => pubsub.subscribe(name, () => {})))
    expect(await numsub(inspect, name)).toBe(1)
    for (const off of offs.slice(0, 4)) await off()
    expect(await numsub(inspect, name)).toBe(1)
    await offs[4]!()
    expect(await numsub(inspect, name)).toBe(0)
  })

  it('unsubscribing one handler leaves the other handlers of the channel working', async () => {
    const pubsub = make()
    const name = channel()
    const first = collector()
    const second = collector()
    const offFirst = await pubsub.subscribe(name, first.handler)
    await pubsub.subscribe(name, second.handler)
    await offFirst()
    await pubsub.publish(name, 'after')
    await eventually(() => second.messages.length === 1)
    expect(second.messages).toEqual(['after'])
    expect(first.messages).toEqual([])
  })

  it('delivers once when the same handler subscribes twice, until both subscriptions are removed', async () => {
    const pubsub = make()
    const name = channel()
    const received = collector()
    const offA = await pubsub.subscribe(name, received.handler)
    const offB = await pubsub.subscribe(name, received.handler)
    await pubsub.publish(name, 1)
    await eventually(() => received.messages.length === 1)
    await offA()
    await pubsub.publish(name, 2)
    await eventually(() => received.messages.length === 2)
    expect(received.messages).toEqual([1, 2])
    await offB()
    expect(await numsub(inspect, name)).toBe(0)
  })

  it('an unsubscribe function is idempotent', async () => {
    const pubsub = make()
    const name = channel()
    const keep = collector()
    const off = await pubsub.subscribe(name, () => {})
    await pubsub.subscribe(name, keep.handler)
    await Promise.all([off(), off(), off()])
    await pubsub.publish(name, 'still')
    await eventually(() => keep.messages.length === 1)
    expect(await numsub(inspect, name)).toBe(1)
  })

  it('settles the server state right under racing subscribe and unsubscribe calls', async () => {
    const pubsub = make()
    const names = Array.from({ length: 10 }, () => channel('storm'))
    const live = new Map<string, Array<() => Promise<void>>>()
    const operations: Array<Promise<unknown>> = []
    // Deterministic pseudo-random interleaving, issued without awaiting.
    let seed = 7
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed
    }
    for (let step = 0; step < 600; step++) {
      const name = names[next() % names.length]!
      const offs = live.get(name) ?? []
      live.set(name, offs)
      if (offs.length > 0 && next() % 2 === 0) {
        operations.push(offs.pop()!())
      } else {
        const pending = pubsub.subscribe(name, () => {})
        offs.push(() => pending.then((off) => off()))
        operations.push(pending)
      }
    }
    await Promise.all(operations)
    for (const name of names) {
      const expected = (live.get(name)?.length ?? 0) > 0 ? 1 : 0
      expect(await numsub(inspect, name)).toBe(expected)
    }
  })

  it('a pattern subscription delivers the channel name and the pattern', async () => {
    const pubsub = make()
    const base = channel('pat')
    const seen: Array<[unknown, string, string | undefined]> = []
    await pubsub.psubscribe(`${base}:*`, (message, from, pattern) => void seen.push([message, from, pattern]))
    await pubsub.publish(`${base}:a`, 'one')
    await pubsub.publish(`${base}:b`, 'two')
    await eventually(() => seen.length === 2)
    expect(seen).toEqual([
      ['one', `${base}:a`, `${base}:*`],
      ['two', `${base}:b`, `${base}:*`],
    ])
  })

  it('a pattern and a channel subscription both receive a matching message', async () => {
    const pubsub = make()
    const base = channel('both')
    const exact = collector()
    const pattern = collector()
    await pubsub.subscribe(`${base}:x`, exact.handler)
    const offPattern = await pubsub.psubscribe(`${base}:*`, pattern.handler)
    await pubsub.publish(`${base}:x`, 1)
    await eventually(() => exact.messages.length === 1 && pattern.messages.length === 1)
    await offPattern()
    await pubsub.publish(`${base}:x`, 2)
    await eventually(() => exact.messages.length === 2)
    expect(pattern.messages).toEqual([1])
  })

  it('a handler that throws does not stop the others and is reported', async () => {
    const reported: unknown[] = []
    const pubsub = make({}, { error: ({ error }) => void reported.push(error) })
    const name = channel()
    const received = collector()
    await pubsub.subscribe(name, () => {
      throw new Error('boom')
    })
    await pubsub.subscribe(name, received.handler)
    await pubsub.publish(name, 'a')
    await pubsub.publish(name, 'b')
    await eventually(() => received.messages.length === 2 && reported.length === 2)
    expect(HandlerError.isInstance(reported[0])).toBe(true)
    expect((reported[0] as Error).cause).toEqual(new Error('boom'))
  })

  it('a handler that rejects does not stop the others and is reported with its channel', async () => {
    const reported: Array<PubSubEvents['error']> = []
    const pubsub = make({}, { error: (payload) => void reported.push(payload) })
    const name = channel()
    const received = collector()
    await pubsub.subscribe(name, async () => {
      throw new Error('async boom')
    })
    await pubsub.subscribe(name, received.handler)
    await pubsub.publish(name, 'a')
    await eventually(() => received.messages.length === 1 && reported.length === 1)
    expect(reported[0]).toMatchObject({ operation: 'handler', key: name })
    expect(reported[0]!.error).toMatchObject({ channel: name })
    expect(((reported[0]!.error as Error).cause as Error).message).toBe('async boom')
  })

  it('rejects bad input with a clear error and publishes nothing', async () => {
    const pubsub = make()
    const name = channel()
    const received = collector()
    await pubsub.subscribe(name, received.handler)
    await expect(pubsub.publish('', 1)).rejects.toSatisfy(InvalidArgumentError.isInstance)
    await expect(pubsub.publish(name, undefined)).rejects.toSatisfy(InvalidArgumentError.isInstance)
    await expect(pubsub.publish(name, 10n)).rejects.toMatchObject({ code: 'E_ENCODE' })
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    await expect(pubsub.publish(name, cyclic)).rejects.toMatchObject({ code: 'E_ENCODE' })
    await expect(pubsub.publish(name, Number.NaN)).rejects.toMatchObject({ code: 'E_ENCODE' })
    await expect(pubsub.publish(123 as unknown as string, 1)).rejects.toSatisfy(
      InvalidArgumentError.isInstance,
    )
    await expect(pubsub.subscribe('', () => {})).rejects.toSatisfy(InvalidArgumentError.isInstance)
    await expect(pubsub.psubscribe('', () => {})).rejects.toSatisfy(InvalidArgumentError.isInstance)
    await expect(pubsub.subscribe(name, 'nope' as never)).rejects.toSatisfy(InvalidArgumentError.isInstance)
    await pubsub.publish(name, 'sentinel')
    await eventually(() => received.messages.length === 1)
    expect(received.messages).toEqual(['sentinel'])
  })

  // Client-side counting: the server-side MONITOR recorder trips an ioredis monitor-mode bug on a
  // Cluster busy with (S)SUBSCRIBE traffic from other files.
  it('sends no command for bad input, and one PUBLISH for good input', async () => {
    const own = createRedis(target.connection)
    try {
      await own.ping()
      const pubsub = make({ redis: own })
      // On a Cluster, PUBLISH goes straight to the master owning the channel's slot: count there too.
      const counters = [own, ...masters(own).filter((node) => node !== own)].map((client) =>
        countCommands(client),
      )
      // Lazily connecting node connections send their own handshake (HELLO, CLIENT); only data commands count.
      const sent = () =>
        counters
          .flatMap((counter) => counter.names().map((name) => name.toLowerCase()))
          .filter((name) => !['hello', 'client', 'info', 'auth', 'select'].includes(name))
      const name = channel()
      await expect(pubsub.publish('', 1)).rejects.toSatisfy(InvalidArgumentError.isInstance)
      await expect(pubsub.publish(name, undefined)).rejects.toSatisfy(InvalidArgumentError.isInstance)
      await expect(pubsub.publish(name, { big: 1n })).rejects.toMatchObject({ code: 'E_ENCODE' })
      expect(sent()).toEqual([])
      await pubsub.publish(name, 1)
      // (a command queued while a node connection opens passes sendCommand twice)
      expect(new Set(sent())).toEqual(new Set(['publish']))
      for (const counter of counters) counter.restore()
    } finally {
      own.disconnect()
    }
  })

  it('close() unsubscribes, closes the owned connection and refuses new work', async () => {
    const pubsub = make()
    const name = channel()
    await pubsub.subscribe(name, () => {})
    await pubsub.psubscribe(`${name}:*`, () => {})
    const subscriber = pubsub.connection!
    await pubsub.close()
    await pubsub.close()
    await eventually(() => subscriber.status === 'end')
    expect(subscriber.listenerCount('message')).toBe(0)
    await eventually(async () => (await numsub(inspect, name)) === 0)
    await expect(pubsub.publish(name, 1)).rejects.toSatisfy(PubSubClosedError.isInstance)
    await expect(pubsub.subscribe(name, () => {})).rejects.toSatisfy(PubSubClosedError.isInstance)
  })

  it('rejects a missing client or a bad timeout at creation', () => {
    expect(() => createPubSub({ redis: undefined as never })).toThrow(InvalidArgumentError)
    expect(() => createPubSub({ redis, redisTimeoutMs: 0 })).toThrow(InvalidArgumentError)
    expect(() => createPubSub({ redis, redisTimeoutMs: Number.NaN })).toThrow(InvalidArgumentError)
  })

  it('does not open a subscriber connection for publish-only use', async () => {
    const pubsub = make()
    await pubsub.publish(channel(), 1)
    expect(pubsub.connection).toBeUndefined()
  })

  it('with 1,000 channels subscribed, a message runs only the handlers of its channel', async () => {
    const pubsub = make()
    let otherCalls = 0
    const names = Array.from({ length: 1000 }, () => channel('many'))
    await Promise.all(names.map((name) => pubsub.subscribe(name, () => void otherCalls++)))
    const wanted = channel('many-target')
    const received = collector()
    await pubsub.subscribe(wanted, received.handler)
    for (let index = 0; index < 20; index++) await pubsub.publish(wanted, index)
    await eventually(() => received.messages.length === 20)
    expect(otherCalls).toBe(0)
    expect(pubsub.connection!.listenerCount('message')).toBe(1)
  })
})
