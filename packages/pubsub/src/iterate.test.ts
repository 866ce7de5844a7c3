import { createRedis, InvalidArgumentError } from '@x/redis-core'
import { eventually, sleep, targets, useRedis } from '@x/testkit/vitest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import type { PubSub } from './create-pubsub.js'
import { OverflowError } from './errors.js'
import { createListened, numsub } from './test-support.js'

describe.each(targets())('iterate on $name', (target) => {
  const redis = useRedis(target, createRedis)
  let inspect: ReturnType<typeof target.client>
  let pubsub: PubSub
  let counter = 0
  const channel = () => `${target.prefix}:it:${++counter}`

  beforeAll(() => {
    inspect = target.client()
    // Bursts of hundreds of publishes on a loaded machine: a generous deadline, these tests are not about timeouts.
    pubsub = createListened({ redis, redisTimeoutMs: 10_000 }, { error: () => {} })
  })
  afterAll(async () => {
    await pubsub.close()
  })

  it('yields messages in order and unsubscribes on break', async () => {
    const name = channel()
    const messages = pubsub.iterate<number>(name)
    await messages.ready
    expect(await numsub(inspect, name)).toBe(1)
    for (let index = 0; index < 5; index++) await pubsub.publish(name, index)
    const seen: number[] = []
    for await (const message of messages) {
      seen.push(message)
      if (seen.length === 3) break
    }
    expect(seen).toEqual([0, 1, 2])
    expect(await numsub(inspect, name)).toBe(0)
    expect(await messages.next()).toEqual({ value: undefined, done: true })
  })

  it('an abort signal ends a waiting iteration and unsubscribes', async () => {
    const name = channel()
    const controller = new AbortController()
    const messages = pubsub.iterate(name, { signal: controller.signal })
    await messages.ready
    const pending = messages.next()
    controller.abort()
    expect(await pending).toEqual({ value: undefined, done: true })
    await eventually(async () => (await numsub(inspect, name)) === 0)
  })

  it('an already aborted signal never subscribes', async () => {
    const name = channel()
    const controller = new AbortController()
    controller.abort()
    const messages = pubsub.iterate(name, { signal: controller.signal })
    await messages.ready
    expect(await messages.next()).toEqual({ value: undefined, done: true })
    expect(await numsub(inspect, name)).toBe(0)
  })

  it('return() unsubscribes on the server', async () => {
    const name = channel()
    const messages = pubsub.iterate(name)
    await messages.ready
    await messages.return!()
    expect(await numsub(inspect, name)).toBe(0)
  })

  it('drop-oldest keeps the newest highWaterMark messages and counts the dropped', async () => {
    const name = channel()
    const messages = pubsub.iterate<number>(name, { highWaterMark: 5, overflow: 'drop-oldest' })
    await messages.ready
    for (let index = 0; index < 20; index++) await pubsub.publish(name, index)
    await eventually(() => messages.dropped === 15)
    expect(messages.buffered).toBe(5)
    const seen: number[] = []
    for (let index = 0; index < 5; index++) seen.push((await messages.next()).value as number)
    expect(seen).toEqual([15, 16, 17, 18, 19])
    await messages.close()
  })

  it('drop-newest keeps the oldest highWaterMark messages and counts the dropped', async () => {
    const name = channel()
    const messages = pubsub.iterate<number>(name, { highWaterMark: 4, overflow: 'drop-newest' })
    await messages.ready
    for (let index = 0; index < 10; index++) await pubsub.publish(name, index)
    await eventually(() => messages.dropped === 6)
    const seen: number[] = []
    for (let index = 0; index < 4; index++) seen.push((await messages.next()).value as number)
    expect(seen).toEqual([0, 1, 2, 3])
    await messages.close()
  })

  it("'error' delivers what was buffered, then throws OverflowError and unsubscribes", async () => {
    const name = channel()
    const messages = pubsub.iterate<number>(name, { highWaterMark: 3, overflow: 'error' })
    await messages.ready
    for (let index = 0; index < 5; index++) await pubsub.publish(name, index)
    await eventually(() => messages.dropped >= 1)
    const seen: number[] = []
    const error = await (async () => {
      for await (const message of messages) seen.push(message)
    })().catch((caught: unknown) => caught)
    expect(seen).toEqual([0, 1, 2])
    expect(OverflowError.isInstance(error)).toBe(true)
    await eventually(async () => (await numsub(inspect, name)) === 0)
  })

  it('the buffer stays bounded under a burst while the consumer is slow', async () => {
    const name = channel()
    const messages = pubsub.iterate<number>(name, { highWaterMark: 16 })
    await messages.ready
    await Promise.all(Array.from({ length: 500 }, (_, index) => pubsub.publish(name, index)))
    await eventually(() => messages.buffered + messages.dropped === 500)
    expect(messages.buffered).toBe(16)
    await messages.close()
  })

  it('several iterators on one channel each get every message', async () => {
    const name = channel()
    const first = pubsub.iterate<string>(name)
    const second = pubsub.iterate<string>(name)
    await Promise.all([first.ready, second.ready])
    await pubsub.publish(name, 'hello')
    expect((await first.next()).value).toBe('hello')
    expect((await second.next()).value).toBe('hello')
    await first.close()
    expect(await numsub(inspect, name)).toBe(1)
    await second.close()
    expect(await numsub(inspect, name)).toBe(0)
  })

  it('a typed channel iterates validated values', async () => {
    const name = channel()
    const typed = pubsub.channel(name, { schema: z.object({ n: z.number() }) })
    const messages = typed.iterate({ highWaterMark: 10 })
    await messages.ready
    await pubsub.publish(name, { n: 'not a number' })
    await pubsub.publish(name, { n: 7 })
    expect((await messages.next()).value).toEqual({ n: 7 })
    await messages.close()
  })

  it('pending next() calls resolve in order as messages arrive', async () => {
    const name = channel()
    const messages = pubsub.iterate<number>(name)
    await messages.ready
    const first = messages.next()
    const second = messages.next()
    await pubsub.publish(name, 1)
    await pubsub.publish(name, 2)
    expect([(await first).value, (await second).value]).toEqual([1, 2])
    await messages.close()
    await sleep(10)
  })

  it('rejects bad options before subscribing', () => {
    expect(() => pubsub.iterate(channel(), { highWaterMark: 0 })).toThrow(InvalidArgumentError)
    expect(() => pubsub.iterate(channel(), { highWaterMark: 1.5 })).toThrow(InvalidArgumentError)
    expect(() => pubsub.iterate(channel(), { overflow: 'block' as never })).toThrow(InvalidArgumentError)
    expect(() => pubsub.iterate('')).toThrow(InvalidArgumentError)
  })

  it('close() of the instance ends open iterators', async () => {
    const own = createListened({ redis }, { error: () => {} })
    const name = channel()
    const messages = own.iterate(name)
    await messages.ready
    const waiting = messages.next()
    await own.close()
    expect(await waiting).toEqual({ value: undefined, done: true })
    await eventually(async () => (await numsub(inspect, name)) === 0)
  })
})
