import { createRedis } from '@x/redis-core'
import { type RedisCluster, type RedisServer, startCluster, startRedis } from '@x/testkit'
import { eventually, sleep } from '@x/testkit/vitest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collector, createListened, numsub } from './test-support.js'
import type { ReconnectInfo } from './types.js'

/** Publishes until the subscriber got it: the publisher's own connection may still be coming back. */
async function publishUntilReceived(publish: () => Promise<unknown>, received: () => boolean): Promise<void> {
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

describe('reconnect on a private server', () => {
  let server: RedisServer
  beforeAll(async () => {
    server = await startRedis()
  })
  afterAll(async () => {
    await server.stop()
  })

  it('restores channel and pattern subscriptions after CLIENT KILL and emits reconnected', async () => {
    const redis = createRedis({ url: server.url })
    const reconnects: ReconnectInfo[] = []
    const pubsub = createListened(
      { redis },
      { error: () => {}, reconnected: (info) => void reconnects.push(info) },
    )
    const exact = collector()
    const pattern = collector()
    await pubsub.subscribe('kill:exact', exact.handler)
    await pubsub.psubscribe('kill:p:*', pattern.handler)
    const inspect = server.client()
    await inspect.call('CLIENT', 'KILL', 'TYPE', 'pubsub')
    await eventually(() => reconnects.length === 1, 15_000)
    expect(reconnects[0]).toEqual({ channels: 1, patterns: 1, shardedChannels: 0 })
    await pubsub.publish('kill:exact', 'after')
    await pubsub.publish('kill:p:1', 'after-pattern')
    await eventually(() => exact.messages.length === 1 && pattern.messages.length === 1)
    expect(await numsub(inspect, 'kill:exact')).toBe(1)
    await pubsub.close()
    redis.disconnect()
  })

  it('restores subscriptions after a server restart; later messages arrive', async () => {
    const redis = createRedis({ url: server.url })
    const reconnects: ReconnectInfo[] = []
    const pubsub = createListened(
      { redis },
      { error: () => {}, reconnected: (info) => void reconnects.push(info) },
    )
    const received = collector()
    await pubsub.subscribe('restart:a', received.handler)
    await pubsub.ssubscribe('restart:s', received.handler)
    await server.restart()
    await eventually(() => reconnects.length >= 1, 20_000)
    expect(reconnects[0]).toEqual({ channels: 1, patterns: 0, shardedChannels: 1 })
    await publishUntilReceived(
      () => pubsub.publish('restart:a', 'back'),
      () => received.messages.includes('back'),
    )
    await pubsub.spublish('restart:s', 'sharded back')
    await eventually(() => received.messages.includes('sharded back'))
    await pubsub.close()
    redis.disconnect()
  })

  it('a subscription removed while the connection was down is not restored', async () => {
    const redis = createRedis({ url: server.url })
    const reconnects: ReconnectInfo[] = []
    const pubsub = createListened(
      { redis },
      { error: () => {}, reconnected: (info) => void reconnects.push(info) },
    )
    const off = await pubsub.subscribe('gone:a', () => {})
    await pubsub.subscribe('gone:b', () => {})
    const inspect = server.client()
    await inspect.call('CLIENT', 'KILL', 'TYPE', 'pubsub')
    await off()
    await eventually(() => reconnects.length === 1, 15_000)
    expect(await numsub(inspect, 'gone:a')).toBe(0)
    expect(await numsub(inspect, 'gone:b')).toBe(1)
    await pubsub.close()
    redis.disconnect()
  })

  it('subscribe() fails with a typed error when the server is down, and works again once it is back', async () => {
    const redis = createRedis({ url: server.url })
    const pubsub = createListened({ redis, redisTimeoutMs: 500 }, { error: () => {} })
    await pubsub.subscribe('down:warm', () => {})
    await server.kill()
    const error = await pubsub.subscribe('down:a', () => {}).catch((caught: unknown) => caught)
    expect((error as { code?: string }).code).toMatch(/E_REDIS_UNAVAILABLE|E_TIMEOUT/)
    await expect(pubsub.publish('down:a', 1)).rejects.toMatchObject({
      code: expect.stringMatching(/E_REDIS_UNAVAILABLE|E_TIMEOUT/),
    })
    await server.restart()
    const received = collector()
    await eventually(
      async () => {
        try {
          await pubsub.subscribe('down:a', received.handler)
          return true
        } catch {
          return false
        }
      },
      20_000,
      100,
    )
    await publishUntilReceived(
      () => pubsub.publish('down:a', 'up'),
      () => received.messages.length > 0,
    )
    expect(pubsub.stats().channels).toBe(2)
    await pubsub.close()
    redis.disconnect()
  })

  it('an unsubscribe while the server is down resolves, is reported, and is not restored later', async () => {
    const redis = createRedis({ url: server.url })
    const reported: Array<{ operation: string; code: unknown }> = []
    const reconnects: ReconnectInfo[] = []
    const pubsub = createListened(
      { redis, redisTimeoutMs: 500 },
      {
        error: ({ operation, error }) =>
          void reported.push({ operation, code: (error as { code?: unknown }).code }),
        reconnected: (info) => void reconnects.push(info),
      },
    )
    const off = await pubsub.subscribe('outage:gone', () => {})
    const kept = collector()
    await pubsub.subscribe('outage:kept', kept.handler)
    await server.kill()
    await off()
    expect(reported).toContainEqual({
      operation: 'unsubscribe',
      code: expect.stringMatching(/E_REDIS_UNAVAILABLE|E_TIMEOUT/),
    })
    await server.restart()
    await eventually(() => reconnects.length >= 1, 20_000)
    expect(reconnects.at(-1)).toEqual({ channels: 1, patterns: 0, shardedChannels: 0 })
    const inspect = server.client()
    expect(await numsub(inspect, 'outage:gone')).toBe(0)
    await publishUntilReceived(
      () => pubsub.publish('outage:kept', 'back'),
      () => kept.messages.length > 0,
    )
    await pubsub.close()
    redis.disconnect()
  })
})

describe('reconnect on a private cluster', () => {
  let cluster: RedisCluster
  beforeAll(async () => {
    cluster = await startCluster({ masters: 3 })
  })
  afterAll(async () => {
    await cluster.stop()
  })

  it('channel and sharded subscriptions survive CLIENT KILL of the subscriber connections', async () => {
    const redis = createRedis({ clusterNodes: cluster.startupNodes })
    const reconnects: ReconnectInfo[] = []
    const pubsub = createListened(
      { redis },
      { error: () => {}, reconnected: (info) => void reconnects.push(info) },
    )
    const received = collector()
    await pubsub.subscribe('ckill:a', received.handler)
    await pubsub.ssubscribe('{ckill}:s', received.handler)
    for (const node of cluster.nodes) await node.client().call('CLIENT', 'KILL', 'TYPE', 'pubsub')
    await eventually(() => reconnects.length >= 1, 15_000)
    expect(reconnects.at(-1)).toEqual({ channels: 1, patterns: 0, shardedChannels: 1 })
    await publishUntilReceived(
      () => pubsub.publish('ckill:a', 'plain'),
      () => received.messages.includes('plain'),
    )
    await publishUntilReceived(
      () => pubsub.spublish('{ckill}:s', 'sharded'),
      () => received.messages.includes('sharded'),
    )
    await pubsub.close()
    redis.disconnect()
  })

  it.each(['plain', 'sharded'] as const)(
    'reconnected fires after CLIENT KILL with only %s subscriptions',
    async (kind) => {
      const redis = createRedis({ clusterNodes: cluster.startupNodes })
      const reconnects: ReconnectInfo[] = []
      const pubsub = createListened(
        { redis },
        { error: () => {}, reconnected: (info) => void reconnects.push(info) },
      )
      const received = collector()
      const name = kind === 'plain' ? `only:${kind}` : `{only}:${kind}`
      if (kind === 'plain') await pubsub.psubscribe(`${name}*`, received.handler)
      else await pubsub.ssubscribe(name, received.handler)
      for (const node of cluster.nodes) await node.client().call('CLIENT', 'KILL', 'TYPE', 'pubsub')
      await eventually(() => reconnects.length >= 1, 15_000)
      await publishUntilReceived(
        () => (kind === 'plain' ? pubsub.publish(name, kind) : pubsub.spublish(name, kind)),
        () => received.messages.includes(kind),
      )
      await pubsub.close()
      redis.disconnect()
    },
  )
})
