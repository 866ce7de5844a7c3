import { tracingChannel } from 'node:diagnostics_channel'
import { createRedis } from '@x/redis-core'
import { eventually, targets, useRedis } from '@x/testkit/vitest'
import { afterEach, describe, expect, it } from 'vitest'
import { createPubSub } from './create-pubsub.js'
import { createStream } from './stream.js'

type Event = { kind: 'start' | 'asyncEnd' | 'end' | 'error'; context: Record<string, unknown> }

/** Records every event of one tracing channel; `stop()` unsubscribes. */
function record(name: string): { events: Event[]; stop(): void } {
  const events: Event[] = []
  const push = (kind: Event['kind']) => (context: unknown) =>
    void events.push({ kind, context: { ...(context as Record<string, unknown>) } })
  const handlers = {
    start: push('start'),
    end: push('end'),
    asyncStart: () => {},
    asyncEnd: push('asyncEnd'),
    error: push('error'),
  }
  const channel = tracingChannel(name)
  channel.subscribe(handlers)
  return { events, stop: () => channel.unsubscribe(handlers) }
}

const SECRET = 'card-4111-1111-1111-1111'

describe.each(targets())('tracing channels on $name', (target) => {
  const redis = useRedis(target, createRedis)
  const stops: Array<() => void> = []
  let counter = 0
  const channel = () => `${target.prefix}:trace:${++counter}`
  afterEach(() => {
    for (const stop of stops.splice(0)) stop()
  })

  const listen = (name: string) => {
    const recorder = record(name)
    stops.push(recorder.stop)
    return recorder
  }

  it('x:pubsub:subscribe, publish and deliver carry names and outcomes, never the message', async () => {
    await using pubsub = createPubSub({ redis })
    const subscribe = listen('x:pubsub:subscribe')
    const publish = listen('x:pubsub:publish')
    const deliver = listen('x:pubsub:deliver')
    const name = channel()
    const received: unknown[] = []
    await pubsub.subscribe(name, (message) => void received.push(message))
    await pubsub.publish(name, { card: SECRET })
    await eventually(() => received.length === 1 && deliver.events.some((event) => event.kind === 'end'))
    expect(subscribe.events.find((event) => event.kind === 'asyncEnd')?.context).toMatchObject({
      channel: name,
      kind: 'channel',
      outcome: 'subscribed',
    })
    expect(publish.events.find((event) => event.kind === 'asyncEnd')?.context).toMatchObject({
      channel: name,
      sharded: false,
      roundTrips: 1,
      outcome: 'published',
      receivers: target.name === 'server' ? 1 : expect.any(Number),
    })
    expect(deliver.events.find((event) => event.kind === 'end')?.context).toMatchObject({
      channel: name,
      handlers: 1,
      outcome: 'delivered',
    })
    expect(pubsub.stats()).toMatchObject({ channels: 1, published: 1, delivered: 1, redisErrors: 0 })
    const everything = JSON.stringify([subscribe.events, publish.events, deliver.events])
    expect(everything).not.toContain(SECRET)
  })

  it('a malformed message is traced as outcome "invalid"; a failed publish goes to the error event', async () => {
    await using pubsub = createPubSub({ redis })
    pubsub.on('error', () => {})
    const deliver = listen('x:pubsub:deliver')
    const publish = listen('x:pubsub:publish')
    const name = channel()
    await pubsub.subscribe(name, () => {})
    await redis.publish(name, `{${SECRET}`)
    await eventually(() => deliver.events.some((event) => event.kind === 'end'))
    expect(deliver.events.find((event) => event.kind === 'end')?.context).toMatchObject({
      channel: name,
      outcome: 'invalid',
    })
    const closed = createRedis(target.connection)
    closed.disconnect()
    await using broken = createPubSub({ redis: closed })
    await expect(broken.publish(name, { card: SECRET })).rejects.toMatchObject({
      code: expect.stringMatching(/E_REDIS_UNAVAILABLE|E_TIMEOUT/),
    })
    expect(broken.stats()).toMatchObject({ published: 0, redisErrors: 1 })
    const failure = publish.events.find((event) => event.kind === 'error')
    expect(failure?.context).toMatchObject({ channel: name, sharded: false })
    expect(JSON.stringify([deliver.events, publish.events])).not.toContain(SECRET)
  })

  it('x:pubsub:streamPublish and x:pubsub:consume trace a stream message to its outcome', async () => {
    const streamPublish = listen('x:pubsub:streamPublish')
    const consume = listen('x:pubsub:consume')
    await using stream = createStream({
      redis,
      name: `trace${++counter}`,
      prefix: target.prefix,
      blockMs: 100,
    })
    stream.on('error', () => {})
    const id = await stream.publish({ card: SECRET })
    const consumer = stream.consume(() => {})
    await eventually(() => consume.events.some((event) => event.kind === 'asyncEnd'))
    await consumer.stop()
    expect(streamPublish.events.find((event) => event.kind === 'asyncEnd')?.context).toMatchObject({
      stream: stream.key,
      roundTrips: 1,
      id,
      outcome: 'published',
    })
    expect(consume.events.find((event) => event.kind === 'asyncEnd')?.context).toMatchObject({
      stream: stream.key,
      group: 'default',
      id,
      deliveries: 1,
      outcome: 'delivered',
    })
    expect(JSON.stringify([streamPublish.events, consume.events])).not.toContain(SECRET)
  })
})
