import { type RedisServer, startRedis } from '@x/testkit'
import { eventually, targets, uniqueName, useRedis } from '@x/testkit/vitest'
import { Cluster, type Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeRedis } from './close.js'
import { createRedis, type RedisClient } from './create-redis.js'
import { InvalidArgumentError, RedisUnavailableError, TimeoutError } from './errors.js'
import { waitForReady } from './ready.js'
import { toRedisError } from './redis-error.js'
import { redisCall } from './timeout.js'

describe.each(targets())('createRedis on the shared $name', (target) => {
  const redis = useRedis(target, createRedis)

  it('connects from options and runs commands at once (first connect waits for ready)', async () => {
    const key = `${target.prefix}:${uniqueName('a')}`
    expect(await redis.set(key, '1')).toBe('OK')
    expect(await redis.get(key)).toBe('1')
    expect(redis instanceof Cluster).toBe(target.name === 'cluster')
  })

  it("connects from the environment with cluster: 'auto'", async () => {
    const env =
      'url' in target.connection
        ? { REDIS_URL: target.connection.url }
        : { REDIS_CLUSTER_NODES: target.connection.clusterNodes.map((n) => `${n.host}:${n.port}`).join(',') }
    const fromEnv = createRedis({ env, cluster: 'auto' })
    expect(fromEnv instanceof Cluster).toBe(target.name === 'cluster')
    expect(await fromEnv.ping()).toBe('PONG')
    await closeRedis(fromEnv)
  })
})

describe('createRedis chooses the client kind it was asked for', () => {
  const nodes = 'a:7000,b:7001'

  it('refuses to hand a Cluster from REDIS_CLUSTER_NODES to code that asked for one server', () => {
    expect(() => createRedis({ env: { REDIS_CLUSTER_NODES: nodes } })).toThrow(InvalidArgumentError)
    expect(() => createRedis({ env: { REDIS_CLUSTER_NODES: nodes } })).toThrow(/cluster: true/)
  })

  it('refuses cluster: true without nodes', () => {
    expect(() => createRedis({ cluster: true, env: {} })).toThrow(/clusterNodes or REDIS_CLUSTER_NODES/)
  })

  it('makes a Cluster for cluster: true and a Redis for the default, without connecting', () => {
    const cluster = createRedis({
      cluster: true,
      env: { REDIS_CLUSTER_NODES: nodes },
      clusterOptions: { lazyConnect: true },
    })
    const server = createRedis({ env: {}, redisOptions: { lazyConnect: true } })
    expect(cluster instanceof Cluster).toBe(true)
    expect(server instanceof Cluster).toBe(false)
    cluster.disconnect()
    server.disconnect()
  })
})

describe('createRedis validates its options before connecting', () => {
  it.each([
    [{ connectTimeoutMs: '5s' }, /connectTimeoutMs takes milliseconds/],
    [{ commandTimeoutMs: 0 }, /commandTimeoutMs must be within/],
    [{ reconnect: { baseMs: Number.NaN } }, /reconnect\.baseMs/],
    [{ reconnect: { baseMs: 500, maxMs: 100 } }, /reconnect\.baseMs must be within 1\.\.100 ms/],
    [{ cluster: 'yes' }, /cluster must be true, false or 'auto'/],
    [{ logConnectionErrors: 'no' }, /logConnectionErrors must be true or false/],
  ])('rejects %o', (options, message) => {
    const create = () => createRedis({ env: {}, ...(options as object) })
    expect(create).toThrow(InvalidArgumentError)
    expect(create).toThrow(message)
  })
})

describe('createRedis against servers of its own', () => {
  const servers: RedisServer[] = []
  const clients: RedisClient[] = []
  const track = <T extends RedisClient>(client: T) => {
    clients.push(client)
    return client
  }
  let secured: RedisServer

  beforeAll(async () => {
    secured = await startRedis({ password: 'p@ss word' })
    servers.push(secured)
  })

  afterAll(async () => {
    for (const client of clients) client.disconnect()
    await Promise.all(servers.map((server) => server.stop()))
  })

  it('authenticates with a URL-encoded password and selects the db', async () => {
    const redis = track(
      createRedis({ url: `redis://:${encodeURIComponent('p@ss word')}@127.0.0.1:${secured.port}/3` }),
    )
    await redis.set('k', 'v')
    const info = await (redis as Redis).client('INFO')
    expect(String(info)).toMatch(/ db=3 /)
  })

  it('fails with RedisUnavailableError naming WRONGPASS when the password is wrong', async () => {
    const redis = track(
      createRedis({
        url: `redis://:wrong@127.0.0.1:${secured.port}`,
        connectTimeoutMs: 1000,
        logConnectionErrors: false,
      }),
    )
    const error = await redis.ping().catch((caught: unknown) => toRedisError(caught, redis))
    expect(RedisUnavailableError.isInstance(error)).toBe(true)
    expect(RedisUnavailableError.isInstance(error) && error.rootCause).toBe('WRONGPASS')
  })

  it("fails with the client's TimeoutError when the server is paused", async () => {
    const server = await startRedis()
    servers.push(server)
    const redis = track(createRedis({ url: server.url, commandTimeoutMs: 300 }))
    await waitForReady(redis)
    server.pause()
    try {
      const error = await redisCall(redis.get('x'), 60_000).catch((e: unknown) => e)
      expect(TimeoutError.isInstance(error)).toBe(true)
      // The client's own command timeout answered, not the outer 60 s guard (which sets timeoutMs).
      expect(TimeoutError.isInstance(error) && error.timeoutMs).toBeUndefined()
      expect((error as Error).message).toMatch(/command timeout/)
    } finally {
      server.resume()
    }
  })

  it('fails fast instead of queueing while disconnected, then reconnects after a restart', async () => {
    const server = await startRedis()
    servers.push(server)
    const redis = track(
      createRedis({ url: server.url, reconnect: { baseMs: 20, maxMs: 200 }, logConnectionErrors: false }),
    )
    await redis.set('before', '1')
    await server.kill()
    await eventually(() => redis.status !== 'ready')
    const error = await redisCall(redis.incr('counter'), 10_000).catch((e: unknown) => e)
    expect(RedisUnavailableError.isInstance(error)).toBe(true)

    await server.restart()
    await waitForReady(redis, 10_000)
    expect(await redis.ping()).toBe('PONG')
    // The INCR that failed while the server was down was not queued and replayed after the reconnect.
    expect(await redis.get('counter')).toBeNull()
  })

  it('does not replay a command that was in flight when the connection dropped', async () => {
    const server = await startRedis()
    servers.push(server)
    const redis = track(
      createRedis({
        url: server.url,
        commandTimeoutMs: 5000,
        reconnect: { baseMs: 20, maxMs: 100 },
        logConnectionErrors: false,
      }),
    )
    await waitForReady(redis)
    server.pause()
    const pending = redisCall(redis.incr('inflight'), 10_000).catch((e: unknown) => e)
    // Sent and waiting for its reply:
    await eventually(() => (redis as unknown as { commandQueue: { length: number } }).commandQueue.length > 0)
    await server.kill()
    expect(RedisUnavailableError.isInstance(await pending)).toBe(true)
    await server.restart()
    await waitForReady(redis, 10_000)
    // A replay would have been written before this PING on the same connection.
    expect(await redis.ping()).toBe('PONG')
    expect(await redis.get('inflight')).toBeNull()
  })

  it('rejects commands when nothing listens, within the connect timeout, without crashing', async () => {
    const redis = track(
      createRedis({
        url: 'redis://127.0.0.1:1',
        connectTimeoutMs: 500,
        reconnect: { maxMs: 100 },
        logConnectionErrors: false,
      }),
    )
    const error = await redis.get('x').catch((e: unknown) => toRedisError(e, redis))
    expect(RedisUnavailableError.isInstance(error)).toBe(true)
    expect(RedisUnavailableError.isInstance(error) && error.rootCause).toBe('ECONNREFUSED')
  })

  it("delivers connection errors to the client's own error listeners", async () => {
    const errors: Error[] = []
    const redis = track(createRedis({ url: 'redis://127.0.0.1:1' }))
    redis.on('error', (error) => errors.push(error))
    await redis.ping().catch(() => {})
    await eventually(() => errors.length > 0)
    expect((errors[0] as NodeJS.ErrnoException).code).toBe('ECONNREFUSED')
  })
})
