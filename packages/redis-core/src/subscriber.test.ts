import { type RedisCluster, type RedisServer, startCluster, startRedis } from '@x/testkit'
import { eventually, sleep, targets, useRedis } from '@x/testkit/vitest'
import type { Cluster, Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isCluster } from './cluster.js'
import { createRedis, type RedisClient } from './create-redis.js'
import { InvalidArgumentError, RedisUnavailableError } from './errors.js'
import { createSubscriber, type SubscriberEvents } from './subscriber.js'

/** PUBSUB <sub> <name> summed over every master (a Cluster node only counts its own clients). */
async function count(client: Redis | Cluster, sub: 'NUMSUB' | 'SHARDNUMSUB', name: string): Promise<number> {
  const nodes = isCluster(client as RedisClient) ? (client as Cluster).nodes('master') : [client as Redis]
  let total = 0
  for (const node of nodes) total += Number(((await node.call('PUBSUB', sub, name)) as [string, number])[1])
  return total
}

/** Publishes until `received()` holds: the publisher's own connection may still be coming back. */
async function publishUntil(publish: () => Promise<unknown>, received: () => boolean): Promise<void> {
  await eventually(
    async () => {
      await publish().catch(() => {})
      await sleep(50)
      return received()
    },
    15_000,
    100,
  )
}

const messageListeners = (client: RedisClient) =>
  [
    'message',
    'pmessage',
    'smessage',
    'messageBuffer',
    'pmessageBuffer',
    'smessageBuffer',
    'ready',
    'error',
  ].map((event) => client.listenerCount(event))

describe.each(targets())('createSubscriber on $name', (target) => {
  const redis = useRedis(target, createRedis)
  const inspect = target.client()
  let counter = 0
  const name = (label: string) => `${target.prefix}:sub:${label}:${++counter}`

  it('subscribe resolves after the server acknowledged and delivers the raw string', async () => {
    await using subscriber = createSubscriber(redis)
    const channel = name('ack')
    const received: Array<[string, string, string | undefined]> = []
    await subscriber.subscribe(
      channel,
      (message, from, pattern) => void received.push([message, from, pattern]),
    )
    expect(await count(inspect, 'NUMSUB', channel)).toBe(1)
    await redis.publish(channel, '{"not":"decoded"}')
    await eventually(() => received.length === 1)
    expect(received).toEqual([['{"not":"decoded"}', channel, undefined]])
  })

  it('binary mode hands over the payload bytes untouched', async () => {
    await using subscriber = createSubscriber(redis, { binary: true })
    const channel = name('binary')
    const received: Buffer[] = []
    await subscriber.subscribe(channel, (message) => void received.push(message))
    const bytes = Buffer.from([0xff, 0x00, 0xc3, 0x28])
    await redis.publish(channel, bytes)
    await eventually(() => received.length === 1)
    expect(Buffer.isBuffer(received[0])).toBe(true)
    expect(received[0]!.equals(bytes)).toBe(true)
  })

  it('a pattern listener gets the channel and the pattern', async () => {
    await using subscriber = createSubscriber(redis)
    const base = name('pattern')
    const received: Array<[string, string | undefined]> = []
    await subscriber.psubscribe(
      `${base}:*`,
      (_message, channel, pattern) => void received.push([channel, pattern]),
    )
    await redis.publish(`${base}:1`, 'x')
    await eventually(() => received.length === 1)
    expect(received).toEqual([[`${base}:1`, `${base}:*`]])
  })

  it('ssubscribe with sharded: true receives SPUBLISH', async () => {
    await using subscriber = createSubscriber(redis, { sharded: true })
    const channel = `{${name('shard')}}:s`
    const received: string[] = []
    await subscriber.ssubscribe(channel, (message) => void received.push(message))
    expect(await count(inspect, 'SHARDNUMSUB', channel)).toBe(1)
    await redis.spublish(channel, 'sharded')
    await eventually(() => received.length === 1)
    expect(received).toEqual(['sharded'])
  })

  it('reference counts: the name stays subscribed until its last listener leaves', async () => {
    await using subscriber = createSubscriber(redis)
    const channel = name('refs')
    const first: string[] = []
    const second: string[] = []
    const offFirst = await subscriber.subscribe(channel, (message) => void first.push(message))
    const secondListener = (message: string) => void second.push(message)
    const offSecond = await subscriber.subscribe(channel, secondListener)
    // The same listener twice is delivered once and needs two removals.
    const offSecondAgain = await subscriber.subscribe(channel, secondListener)
    expect(await count(inspect, 'NUMSUB', channel)).toBe(1)
    await offFirst()
    await offFirst()
    await offSecond()
    expect(await count(inspect, 'NUMSUB', channel)).toBe(1)
    await redis.publish(channel, 'm')
    await eventually(() => second.length === 1)
    expect(first).toEqual([])
    await offSecondAgain()
    expect(await count(inspect, 'NUMSUB', channel)).toBe(0)
    expect(subscriber.counts()).toEqual({ channels: 0, patterns: 0, shardedChannels: 0 })
  })

  it('a listener that removes another during delivery does not take the message from it', async () => {
    await using subscriber = createSubscriber(redis)
    const channel = name('snapshot')
    const seen: string[] = []
    let offSecond: (() => Promise<void>) | undefined
    await subscriber.subscribe(channel, () => {
      seen.push('first')
      void offSecond?.()
    })
    offSecond = await subscriber.subscribe(channel, () => void seen.push('second'))
    await redis.publish(channel, 'm')
    await eventually(() => seen.length === 2)
    expect(seen).toEqual(['first', 'second'])
  })

  it('a listener that throws is reported and does not stop the others', async () => {
    await using subscriber = createSubscriber(redis)
    const errors: Array<SubscriberEvents['error']> = []
    subscriber.on('error', (payload) => void errors.push(payload))
    const channel = name('throws')
    const received: string[] = []
    await subscriber.subscribe(channel, () => {
      throw new Error('listener bug')
    })
    await subscriber.subscribe(channel, (message) => void received.push(message))
    await redis.publish(channel, 'm')
    await eventually(() => received.length === 1)
    expect(errors).toEqual([{ operation: 'deliver', error: expect.any(Error), key: channel }])
  })

  it('1,000 subscribe/unsubscribe cycles leave no listener and no server subscription behind', async () => {
    await using subscriber = createSubscriber(redis, { sharded: true })
    const kept = name('kept')
    const channel = name('cycle')
    const pattern = `${name('cycle')}:*`
    const shard = `{${name('cycle')}}:s`
    await subscriber.subscribe(kept, () => {})
    const connection = subscriber.connection!
    const before = messageListeners(connection)
    for (let cycle = 0; cycle < 1000; cycle++) {
      const offs = await Promise.all([
        subscriber.subscribe(channel, () => {}),
        subscriber.psubscribe(pattern, () => {}),
        subscriber.ssubscribe(shard, () => {}),
      ])
      await Promise.all(offs.map((off) => off()))
    }
    expect(messageListeners(connection)).toEqual(before)
    expect(await count(inspect, 'NUMSUB', channel)).toBe(0)
    expect(await count(inspect, 'SHARDNUMSUB', shard)).toBe(0)
    expect(await count(inspect, 'NUMSUB', kept)).toBe(1)
    expect(subscriber.counts()).toEqual({ channels: 1, patterns: 0, shardedChannels: 0 })
  }, 120_000)

  it('close() closes its own connection, never the client it was given, and is idempotent', async () => {
    const subscriber = createSubscriber(redis)
    expect(subscriber.connection).toBeUndefined()
    await subscriber.subscribe(name('close'), () => {})
    const connection = subscriber.connection!
    expect(connection).not.toBe(redis)
    await Promise.all([subscriber.close(), subscriber.close()])
    expect(connection.status).toBe('end')
    expect(redis.status).toBe('ready')
    await expect(subscriber.subscribe(name('closed'), () => {})).rejects.toSatisfy(
      RedisUnavailableError.isInstance,
    )
  })

  it('rejects bad input', async () => {
    await using subscriber = createSubscriber(redis)
    await expect(subscriber.subscribe('', () => {})).rejects.toSatisfy(InvalidArgumentError.isInstance)
    await expect(subscriber.subscribe('x', 'no' as never)).rejects.toSatisfy(InvalidArgumentError.isInstance)
    if (target.name === 'cluster')
      await expect(subscriber.ssubscribe('{x}', () => {})).rejects.toSatisfy(InvalidArgumentError.isInstance)
    expect(() => createSubscriber(undefined as never)).toThrow(InvalidArgumentError)
    expect(() => createSubscriber(redis, { redisTimeoutMs: -1 })).toThrow(InvalidArgumentError)
    expect(() => createSubscriber(redis, { connectTimeoutMs: '5s' as never })).toThrow(/milliseconds/)
    expect(subscriber.connection).toBeUndefined()
  })
})

// A server of its own: CLIENT KILL TYPE pubsub would cut the subscriptions of every file sharing one.
describe('createSubscriber reconnects on a private server', () => {
  let server: RedisServer
  beforeAll(async () => {
    server = await startRedis()
  })
  afterAll(async () => {
    await server.stop()
  })

  it('restores every subscription after CLIENT KILL and emits reconnected', async () => {
    const redis = createRedis({ url: server.url })
    try {
      await using subscriber = createSubscriber(redis)
      const reconnects: Array<SubscriberEvents['reconnected']> = []
      subscriber.on('reconnected', (info) => void reconnects.push(info))
      subscriber.on('error', () => {})
      const received: string[] = []
      await subscriber.subscribe('kill:exact', (message) => void received.push(message))
      await subscriber.psubscribe('kill:p:*', (message) => void received.push(message))
      const removed = await subscriber.subscribe('kill:removed', () => {})
      const inspect = server.client()
      await inspect.call('CLIENT', 'KILL', 'TYPE', 'pubsub')
      await removed()
      await eventually(() => reconnects.length === 1, 15_000)
      expect(reconnects[0]).toEqual({ channels: 1, patterns: 1, shardedChannels: 0 })
      expect(await count(inspect, 'NUMSUB', 'kill:exact')).toBe(1)
      expect(await count(inspect, 'NUMSUB', 'kill:removed')).toBe(0)
      await publishUntil(
        () => redis.publish('kill:p:1', 'pattern'),
        () => received.includes('pattern'),
      )
      await redis.publish('kill:exact', 'exact')
      await eventually(() => received.includes('exact'))
    } finally {
      redis.disconnect()
    }
  })
})

// A cluster of its own, for the same reason: CLIENT KILL on every node.
describe('createSubscriber follows the subscriber switch on a private cluster', () => {
  let cluster: RedisCluster
  beforeAll(async () => {
    cluster = await startCluster({ masters: 3 })
  })
  afterAll(async () => {
    await cluster.stop()
  })

  it('channel, pattern and sharded subscriptions survive CLIENT KILL on every node; reconnected fires', async () => {
    const redis = createRedis({ clusterNodes: cluster.startupNodes })
    try {
      await using subscriber = createSubscriber(redis, { sharded: true })
      const reconnects: Array<SubscriberEvents['reconnected']> = []
      subscriber.on('reconnected', (info) => void reconnects.push(info))
      subscriber.on('error', () => {})
      const received: string[] = []
      await subscriber.subscribe('ckill:a', (message) => void received.push(message))
      await subscriber.psubscribe('ckill:p:*', (message) => void received.push(message))
      await subscriber.ssubscribe('{ckill}:s', (message) => void received.push(message))
      for (const node of cluster.nodes) await node.client().call('CLIENT', 'KILL', 'TYPE', 'pubsub')
      await eventually(() => reconnects.length >= 1, 15_000)
      expect(reconnects.at(-1)).toEqual({ channels: 1, patterns: 1, shardedChannels: 1 })
      await publishUntil(
        () => redis.publish('ckill:a', 'plain'),
        () => received.includes('plain'),
      )
      await publishUntil(
        () => redis.publish('ckill:p:1', 'pattern'),
        () => received.includes('pattern'),
      )
      await publishUntil(
        () => redis.spublish('{ckill}:s', 'sharded'),
        () => received.includes('sharded'),
      )
    } finally {
      redis.disconnect()
    }
  })
})
