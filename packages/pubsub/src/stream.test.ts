import { createRedis, InvalidArgumentError } from '@x/redis-core'
import { countCommands, eventually, sleep, targets, useRedis } from '@x/testkit/vitest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createStream } from './stream.js'
import type { Stream, StreamMessageInfo, StreamOptions } from './stream-types.js'
import { clientList } from './test-support.js'

describe.each(targets())('createStream on $name', (target) => {
  const redis = useRedis(target, createRedis)
  let inspect: ReturnType<typeof target.client>
  const streams: Array<Stream<unknown>> = []
  let counter = 0

  const make = <T = unknown>(extra: Partial<StreamOptions<T>> = {}, name = `s${++counter}`) => {
    const stream = createStream<T>({ redis, name, prefix: target.prefix, ...extra })
    stream.on('error', () => {})
    streams.push(stream as Stream<unknown>)
    return stream
  }

  beforeAll(() => {
    inspect = target.client()
  })
  afterAll(async () => {
    await Promise.all(streams.map((stream) => stream.close()))
  })

  it('publishes and consumes in order, acknowledging each message', async () => {
    const stream = make<{ n: number }>({ blockMs: 200 })
    for (let n = 0; n < 5; n++) await stream.publish({ n })
    const seen: number[] = []
    const consumer = stream.consume(({ n }) => void seen.push(n))
    await eventually(() => seen.length === 5)
    expect(seen).toEqual([0, 1, 2, 3, 4])
    await eventually(() => consumer.stats.handled === 5)
    const pending = (await inspect.xpending(stream.key, 'default')) as [number]
    expect(Number(pending[0])).toBe(0)
    await consumer.stop()
  })

  it('publish is one XADD round trip', async () => {
    const stream = make()
    await stream.publish('warm')
    // Client-side counting (see create-pubsub.test.ts for why not the MONITOR recorder).
    const counter = countCommands(redis)
    await stream.publish({ hello: 'world' })
    counter.restore()
    expect(counter.names()).toEqual(['xadd'])
  })

  it('messages published while a consumer blocks arrive', async () => {
    const stream = make({ blockMs: 500 })
    const seen: unknown[] = []
    const consumer = stream.consume((message) => void seen.push(message))
    await sleep(100)
    await stream.publish('live')
    await eventually(() => seen.length === 1)
    await consumer.stop()
  })

  it('consumers of one group share the messages; every message is handled once', async () => {
    const stream = make({ blockMs: 200 })
    const byConsumer = new Map<string, number[]>()
    const consumers = ['a', 'b', 'c'].map((name) => {
      const own = make({ blockMs: 200, consumer: name }, stream.key.slice(target.prefix.length + 2, -1))
      return own.consume((message) => {
        byConsumer.set(name, [...(byConsumer.get(name) ?? []), message as number])
      })
    })
    for (let n = 0; n < 60; n++) await stream.publish(n)
    await eventually(() => [...byConsumer.values()].flat().length === 60, 15_000)
    const all = [...byConsumer.values()].flat().sort((x, y) => x - y)
    expect(all).toEqual(Array.from({ length: 60 }, (_, n) => n))
    await Promise.all(consumers.map((consumer) => consumer.stop()))
  })

  it('a message read by a consumer that crashed before its ack is delivered to another consumer', async () => {
    const stream = make({ claimIdleMs: 100, claimIntervalMs: 50, blockMs: 100 })
    await stream.publish({ job: 1 })
    // The crashed consumer: it read the message (XREADGROUP) and died without XACK.
    await inspect.xgroup('CREATE', stream.key, 'default', '0', 'MKSTREAM').catch(() => {})
    const read = await inspect.xreadgroup(
      'GROUP',
      'default',
      'crashed',
      'COUNT',
      1,
      'STREAMS',
      stream.key,
      '>',
    )
    expect(read).not.toBeNull()
    const seen: Array<[unknown, StreamMessageInfo]> = []
    const consumer = stream.consume((message, info) => void seen.push([message, info]))
    await eventually(() => seen.length === 1)
    expect(seen[0]![0]).toEqual({ job: 1 })
    expect(seen[0]![1].deliveries).toBe(2)
    await eventually(
      async () => Number(((await inspect.xpending(stream.key, 'default')) as [number])[0]) === 0,
    )
    await consumer.stop()
  })

  it('a consumer stopped in the middle of a handler leaves the message to be reclaimed', async () => {
    const stream = make({ claimIdleMs: 150, claimIntervalMs: 50, blockMs: 100 })
    await stream.publish('work')
    let release: (() => void) | undefined
    const first = stream.consume(
      () =>
        new Promise<void>((_resolve, reject) => {
          release = () => reject(new Error('process died'))
        }),
    )
    // The first consumer now hangs inside its handler, as a wedged process would.
    await eventually(() => release !== undefined)
    const seen: unknown[] = []
    const second = make(
      { claimIdleMs: 150, claimIntervalMs: 50, blockMs: 100, consumer: 'rescuer' },
      stream.key.slice(target.prefix.length + 2, -1),
    )
    const rescuer = second.consume((message) => void seen.push(message))
    await eventually(() => seen.length === 1, 10_000)
    expect(seen).toEqual(['work'])
    release?.()
    await first.stop()
    await rescuer.stop()
  })

  it('a message that fails maxDeliveries times lands in the dead-letter stream', async () => {
    const stream = make<{ id: number }>({
      maxDeliveries: 3,
      claimIdleMs: 50,
      claimIntervalMs: 25,
      blockMs: 100,
    })
    const attempts: number[] = []
    const good: number[] = []
    const consumer = stream.consume(({ id }, info) => {
      if (id === 13) {
        attempts.push(info.deliveries)
        throw new Error('cannot handle 13')
      }
      good.push(id)
    })
    const events: unknown[] = []
    stream.on('deadLettered', (event) => void events.push(event))
    const id = await stream.publish({ id: 13 })
    await stream.publish({ id: 14 })
    await eventually(async () => (await inspect.xlen(stream.deadLetterKey)) === 1, 15_000)
    await eventually(() => events.length === 1)
    expect(events).toEqual([{ key: stream.key, id, reason: 'max-deliveries', deliveries: 3 }])
    expect(attempts).toEqual([1, 2, 3])
    expect(good).toEqual([14])
    const dead = await stream.deadLetters()
    expect(dead).toHaveLength(1)
    expect(dead[0]).toMatchObject({ deliveries: 3, reason: 'max-deliveries', raw: '{"id":13}' })
    expect(dead[0]!.error).toContain('cannot handle 13')
    expect(consumer.stats).toMatchObject({ handled: 1, failed: 3, deadLettered: 1, reclaimed: 2 })
    await eventually(
      async () => Number(((await inspect.xpending(stream.key, 'default')) as [number])[0]) === 0,
    )
    await consumer.stop()
  })

  it('a message reclaimed beyond maxDeliveries (its consumers kept crashing) is dead-lettered by the reclaim script', async () => {
    const stream = make({ maxDeliveries: 1, claimIdleMs: 50, claimIntervalMs: 25, blockMs: 100 })
    await stream.publish('poison')
    await inspect.xgroup('CREATE', stream.key, 'default', '0', 'MKSTREAM').catch(() => {})
    await inspect.xreadgroup('GROUP', 'default', 'crashed', 'COUNT', 1, 'STREAMS', stream.key, '>')
    const events: unknown[] = []
    stream.on('deadLettered', (event) => void events.push(event))
    const seen: unknown[] = []
    const consumer = stream.consume((message) => void seen.push(message))
    await eventually(async () => (await inspect.xlen(stream.deadLetterKey)) === 1, 10_000)
    await eventually(() => events.length === 1)
    expect(events[0]).toMatchObject({ reason: 'max-deliveries', deliveries: 2 })
    expect(seen).toEqual([])
    expect((await stream.deadLetters())[0]).toMatchObject({
      deliveries: 2,
      reason: 'max-deliveries',
      raw: '"poison"',
    })
    await consumer.stop()
  })

  it('an undecodable or schema-failing entry goes to the dead letters at once, others keep flowing', async () => {
    const stream = make<{ n: number }>({ schema: z.object({ n: z.number() }), blockMs: 100 })
    await inspect.xadd(stream.key, '*', 'd', '{broken')
    await inspect.xadd(stream.key, '*', 'd', '{"n":"x"}')
    await inspect.xadd(stream.key, '*', 'other', 'field')
    await stream.publish({ n: 1 })
    const seen: unknown[] = []
    const consumer = stream.consume((message) => void seen.push(message))
    await eventually(() => seen.length === 1 && consumer.stats.deadLettered === 3, 10_000)
    const dead = await stream.deadLetters()
    expect(dead.map((letter) => letter.reason)).toEqual(['invalid', 'invalid', 'invalid'])
    expect(dead[0]!.raw).toBe('{broken')
    await consumer.stop()
  })

  /** One entry of 5,000 field pairs besides `data`, written by XADD directly (more than Lua can unpack). */
  const hugeEntry = (data: string[]) => {
    const fields = [...data]
    for (let n = 0; n < 5000; n++) fields.push(`f${n}`, String(n))
    return fields
  }

  it('an entry of 5,000 fields that keeps failing is dead-lettered and never stalls the group', async () => {
    const stream = make({ maxDeliveries: 2, claimIdleMs: 50, claimIntervalMs: 25, blockMs: 100 })
    await inspect.xadd(stream.key, '*', ...hugeEntry(['d', '"huge"']))
    await stream.publish('flaky')
    const handled: unknown[] = []
    const failures = new Map<unknown, number>()
    const consumer = stream.consume((message) => {
      const failed = failures.get(message) ?? 0
      if (message === 'huge' || failed === 0) {
        failures.set(message, failed + 1)
        throw new Error(`cannot handle ${String(message)}`)
      }
      handled.push(message)
    })
    await eventually(() => handled.length === 1 && consumer.stats.deadLettered === 1, 15_000)
    expect(handled).toEqual(['flaky'])
    expect(failures.get('flaky')).toBe(1)
    const dead = await stream.deadLetters()
    expect(dead).toHaveLength(1)
    expect(dead[0]).toMatchObject({ reason: 'max-deliveries', raw: '"huge"', deliveries: 2 })
    await eventually(
      async () => Number(((await inspect.xpending(stream.key, 'default')) as [number])[0]) === 0,
    )
    await consumer.stop()
  })

  it('an undecodable entry of 5,000 fields is dead-lettered as invalid; the next message is handled', async () => {
    const stream = make({ blockMs: 100 })
    await inspect.xadd(stream.key, '*', ...hugeEntry([]))
    await stream.publish('after')
    const seen: unknown[] = []
    const consumer = stream.consume((message) => void seen.push(message))
    await eventually(() => seen.length === 1 && consumer.stats.deadLettered === 1, 15_000)
    expect(seen).toEqual(['after'])
    expect((await stream.deadLetters())[0]).toMatchObject({ reason: 'invalid', raw: undefined })
    await consumer.stop()
  })

  it('the stream stays under maxLen with exact trimming', async () => {
    const stream = make({ maxLen: 50, exactTrim: true })
    for (let n = 0; n < 300; n++) await stream.publish(n)
    expect(await inspect.xlen(stream.key)).toBe(50)
  })

  it('approximate trimming keeps the stream within one node of maxLen', async () => {
    const stream = make({ maxLen: 50 })
    for (let n = 0; n < 1000; n++) await stream.publish(n)
    const length = await inspect.xlen(stream.key)
    // MAXLEN ~ trims whole radix-tree nodes (stream-node-max-entries, 100 by default).
    expect(length).toBeGreaterThanOrEqual(50)
    expect(length).toBeLessThanOrEqual(150)
  })

  it('stop() does not wait for a pending XREADGROUP BLOCK', async () => {
    // A 10-minute BLOCK: if stop() waited for it, this test would hit its own 30 s timeout.
    const stream = make({ blockMs: 600_000 })
    const consumer = stream.consume(() => {})
    await eventually(async () => (await clientList(inspect)).includes('xreadgroup'), 10_000)
    await consumer.stop()
    expect(consumer.running).toBe(false)
  })

  it('rejects bad input without touching Redis', async () => {
    const stream = make()
    await expect(stream.publish(undefined)).rejects.toSatisfy(InvalidArgumentError.isInstance)
    await expect(stream.publish(10n)).rejects.toMatchObject({ code: 'E_ENCODE' })
    expect(() => make({}, '')).toThrow(InvalidArgumentError)
    expect(() => make({}, 'a{b}')).toThrow(InvalidArgumentError)
    expect(() => make({ maxLen: 0 })).toThrow(InvalidArgumentError)
    expect(() => make({ maxDeliveries: -1 })).toThrow(InvalidArgumentError)
    expect(() => make({ startFrom: 'middle' as never })).toThrow(InvalidArgumentError)
    expect(() => createStream({ name: 'x', redis: undefined as never })).toThrow(InvalidArgumentError)
    expect(() => make({ blockMs: '5m' as never })).toThrow(/milliseconds/)
    expect(() => stream.consume('nope' as never)).toThrow(InvalidArgumentError)
    expect(await inspect.exists(stream.key)).toBe(0)
  })

  it('a group created with startFrom "end" only sees new messages', async () => {
    const stream = make({ startFrom: 'end', blockMs: 100 })
    await stream.publish('old')
    const seen: unknown[] = []
    const consumer = stream.consume((message) => void seen.push(message))
    // The group is created by the consumer; publish 'new' only once it exists.
    await eventually(async () => {
      const groups = (await inspect.xinfo('GROUPS', stream.key).catch(() => [])) as unknown[]
      return groups.length === 1
    })
    await stream.publish('new')
    await eventually(() => seen.length === 1)
    expect(seen).toEqual(['new'])
    await consumer.stop()
  })
})
