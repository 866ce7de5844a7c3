import { createRedis } from '@x/redis-core'
import { type RedisServer, startRedis } from '@x/testkit'
import { eventually, targets, useRedis } from '@x/testkit/vitest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPubSub } from './create-pubsub.js'
import { numpat, numsub, shardNumsub } from './test-support.js'

const CYCLES = 10_000

describe.each(targets())('subscription leaks on $name', (target) => {
  const redis = useRedis(target, createRedis)

  it(`${CYCLES} subscribe/unsubscribe cycles leave listeners and PUBSUB NUMSUB where they started`, async () => {
    const inspect = target.client()
    const pubsub = createPubSub({ redis })
    const name = `${target.prefix}:leak`
    const other = `${target.prefix}:leak:other`
    const kept: unknown[] = []
    await pubsub.subscribe(other, (message) => void kept.push(message))
    const subscriber = pubsub.connection!
    const listenersBefore = subscriber.listenerCount('message') + subscriber.listenerCount('pmessage')
    const eventNamesBefore = subscriber.eventNames().length
    const before = await numsub(inspect, name)
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const off = await pubsub.subscribe(name, () => {})
      await off()
    }
    expect(subscriber.listenerCount('message') + subscriber.listenerCount('pmessage')).toBe(listenersBefore)
    expect(subscriber.eventNames().length).toBe(eventNamesBefore)
    expect(await numsub(inspect, name)).toBe(before)
    expect(pubsub.stats().channels).toBe(1)
    await pubsub.publish(other, 'still here')
    await eventually(() => kept.length === 1)
    expect(kept).toEqual(['still here'])
    await pubsub.close()
  }, 120_000)

  it('1,000 sharded subscribe/unsubscribe cycles leave PUBSUB SHARDNUMSUB where it started', async () => {
    const inspect = target.client()
    const pubsub = createPubSub({ redis })
    const name = `{${target.prefix}}:shard-leak`
    const before = await shardNumsub(inspect, name)
    for (let cycle = 0; cycle < 1000; cycle++) {
      const off = await pubsub.ssubscribe(name, () => {})
      await off()
    }
    expect(await shardNumsub(inspect, name)).toBe(before)
    expect(pubsub.connection!.listenerCount('smessage')).toBe(1)
    await pubsub.close()
  }, 60_000)
})

// NUMPAT counts every pattern on a server, so it is only meaningful on a server nobody else uses.
describe('pattern leaks on a private server', () => {
  let server: RedisServer
  beforeAll(async () => {
    server = await startRedis()
  })
  afterAll(async () => {
    await server.stop()
  })

  it(`${CYCLES} psubscribe/punsubscribe cycles leave PUBSUB NUMPAT and NUMSUB where they started`, async () => {
    const redis = createRedis({ url: server.url })
    const inspect = server.client()
    const pubsub = createPubSub({ redis })
    await pubsub.psubscribe('kept:*', () => {})
    const subscriber = pubsub.connection!
    const patternsBefore = await numpat(inspect)
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const offPattern = await pubsub.psubscribe('leak:*', () => {})
      const offChannel = await pubsub.subscribe('leak:exact', () => {})
      await Promise.all([offPattern(), offChannel()])
    }
    expect(await numpat(inspect)).toBe(patternsBefore)
    expect(await numsub(inspect, 'leak:exact')).toBe(0)
    expect(subscriber.listenerCount('pmessage')).toBe(1)
    expect(subscriber.listenerCount('message')).toBe(1)
    expect(pubsub.stats()).toMatchObject({ channels: 0, patterns: 1 })
    await pubsub.close()
    redis.disconnect()
  }, 120_000)
})
