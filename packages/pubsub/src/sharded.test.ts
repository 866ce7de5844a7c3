import { createRedis, InvalidArgumentError, slotOf } from '@x/redis-core'
import { eventually, targets, useRedis } from '@x/testkit/vitest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { shardedChannel } from './channel-name.js'
import type { PubSub } from './create-pubsub.js'
import { collector, createListened, numsub, shardNumsub } from './test-support.js'

describe('shardedChannel', () => {
  it('builds {tag}:parts names that share a hash slot', () => {
    expect(shardedChannel('room-1', 'chat')).toBe('{room-1}:chat')
    expect(shardedChannel('room-1')).toBe('{room-1}')
    expect(slotOf(shardedChannel('room-1', 'chat'))).toBe(slotOf(shardedChannel('room-1', 'typing', 'x')))
  })

  it('rejects empty tags, braces and control characters', () => {
    expect(() => shardedChannel('')).toThrow(InvalidArgumentError)
    expect(() => shardedChannel('a{b')).toThrow(InvalidArgumentError)
    expect(() => shardedChannel('a', '')).toThrow(InvalidArgumentError)
    expect(() => shardedChannel('a', 'b\nc')).toThrow(InvalidArgumentError)
  })
})

describe.each(targets())('sharded channels on $name', (target) => {
  const redis = useRedis(target, createRedis)
  let inspect: ReturnType<typeof target.client>
  let pubsub: PubSub
  beforeAll(() => {
    inspect = target.client()
    pubsub = createListened({ redis }, { error: () => {} })
  })
  afterAll(async () => {
    await pubsub.close()
  })

  it('SSUBSCRIBE / SPUBLISH deliver on channels spread over every shard', async () => {
    // Different tags land on different slots, hence (on the cluster) on different masters.
    const names = Array.from({ length: 12 }, (_, index) =>
      shardedChannel(`${target.prefix}-${index}`, 'events'),
    )
    const received = new Map<string, unknown[]>()
    await Promise.all(
      names.map((name) =>
        pubsub.ssubscribe(
          name,
          (message, from) => void received.set(from, [...(received.get(from) ?? []), message]),
        ),
      ),
    )
    for (const name of names) await pubsub.spublish(name, { to: name })
    await eventually(() => names.every((name) => (received.get(name) ?? []).length === 1))
    for (const name of names) expect(received.get(name)).toEqual([{ to: name }])
    for (const name of names) expect(await shardNumsub(inspect, name)).toBe(1)
  })

  it('spublish returns the number of receivers on the owning shard', async () => {
    const name = shardedChannel(`${target.prefix}-count`, 'x')
    await pubsub.ssubscribe(name, () => {})
    await pubsub.ssubscribe(name, () => {})
    expect(await pubsub.spublish(name, 1)).toBe(1)
  })

  it('a sharded subscription does not receive plain PUBLISH traffic and vice versa', async () => {
    const name = shardedChannel(`${target.prefix}-split`, 'x')
    const sharded = collector()
    const plain = collector()
    await pubsub.ssubscribe(name, sharded.handler)
    await pubsub.subscribe(name, plain.handler)
    await pubsub.publish(name, 'plain')
    await pubsub.spublish(name, 'sharded')
    await eventually(() => sharded.messages.length === 1 && plain.messages.length === 1)
    expect(sharded.messages).toEqual(['sharded'])
    expect(plain.messages).toEqual(['plain'])
  })

  it('unsubscribing the last sharded handler SUNSUBSCRIBEs, the others keep working until then', async () => {
    const name = shardedChannel(`${target.prefix}-unsub`, 'x')
    const kept = collector()
    const off = await pubsub.ssubscribe(name, () => {})
    const offKept = await pubsub.ssubscribe(name, kept.handler)
    await off()
    await pubsub.spublish(name, 'still')
    await eventually(() => kept.messages.length === 1)
    await offKept()
    expect(await shardNumsub(inspect, name)).toBe(0)
    expect(await numsub(inspect, name)).toBe(0)
  })

  it('a typed sharded channel validates and iterates', async () => {
    const name = shardedChannel(`${target.prefix}-typed`, 'scores')
    const scores = pubsub.channel(name, {
      sharded: true,
      schema: z.object({ player: z.string(), score: z.number() }),
    })
    expect(scores.sharded).toBe(true)
    const messages = scores.iterate({ highWaterMark: 8 })
    await messages.ready
    await expect(scores.publish({ player: 'a', score: 'high' } as never)).rejects.toSatisfy(
      InvalidArgumentError.isInstance,
    )
    await scores.publish({ player: 'a', score: 10 })
    expect((await messages.next()).value).toEqual({ player: 'a', score: 10 })
    await messages.close()
    expect(await shardNumsub(inspect, name)).toBe(0)
  })

  it('rejects bad sharded input without publishing', async () => {
    await expect(pubsub.spublish('', 1)).rejects.toSatisfy(InvalidArgumentError.isInstance)
    await expect(pubsub.spublish(shardedChannel('t', 'x'), undefined)).rejects.toSatisfy(
      InvalidArgumentError.isInstance,
    )
    await expect(pubsub.ssubscribe('', () => {})).rejects.toSatisfy(InvalidArgumentError.isInstance)
  })
})
