import { type RedisServer, startRedis } from '@x/testkit'
import { targets } from '@x/testkit/vitest'
import { Cluster, type Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeRedis } from './close.js'
import { createRedis, type RedisClient } from './create-redis.js'
import { RedisUnavailableError, TimeoutError } from './errors.js'
import { waitForReady } from './ready.js'
import { redisCall } from './timeout.js'

describe.each(targets())('createRedis on the shared $name', (target) => {
  it('connects from options and runs commands at once (first connect waits for ready)', async () => {
    const redis = createRedis(target.connection)
    expect(await redis.set(`${target.prefix}:a`, '1')).toBe('OK')
    expect(await redis.get(`${target.prefix}:a`)).toBe('1')
    expect(redis instanceof Cluster).toBe(target.name === 'cluster')
    await closeRedis(redis)
  })

  it('connects from the environment', async () => {
    const env =
      'url' in target.connection
        ? { REDIS_URL: target.connection.url }
        : { REDIS_CLUSTER_NODES: target.connection.clusterNodes.map((n) => `${n.host}:${n.port}`).join(',') }
    const redis = createRedis({ env })
    expect(await redis.ping()).toBe('PONG')
    await closeRedis(redis)
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
    secured = await startRedis({ args: ['--requirepass', 'p@ss word'] })
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

  it('fails with a typed error when the password is wrong', async () => {
    const redis = track(
      createRedis({ url: `redis://:wrong@127.0.0.1:${secured.port}`, connectTimeoutMs: 1000 }),
    )
    await expect(redisCall(redis.ping(), 3000)).rejects.toThrow()
  })

  it('fails with TimeoutError within the command timeout when the server is paused', async () => {
    const server = await startRedis()
    servers.push(server)
    const redis = track(createRedis({ url: server.url, commandTimeoutMs: 300 }))
    await waitForReady(redis)
    server.pause()
    const started = Date.now()
    const error = await redisCall(redis.get('x'), 10_000).catch((e: unknown) => e)
    const elapsed = Date.now() - started
    server.resume()
    expect(TimeoutError.isInstance(error)).toBe(true)
    // Bounded by the command timeout, not by the 10 s outer guard: the client does not hang.
    expect(elapsed).toBeLessThan(5000)
  })

  it('fails fast instead of queueing while disconnected, then reconnects after a restart', async () => {
    const server = await startRedis()
    servers.push(server)
    const redis = track(createRedis({ url: server.url, reconnect: { baseMs: 20, maxMs: 200 } }))
    await redis.set('before', '1')
    await server.kill()
    await new Promise((resolve) => setTimeout(resolve, 100))
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
      createRedis({ url: server.url, commandTimeoutMs: 5000, reconnect: { baseMs: 20, maxMs: 100 } }),
    )
    await waitForReady(redis)
    server.pause()
    const pending = redisCall(redis.incr('inflight'), 10_000).catch((e: unknown) => e)
    await new Promise((resolve) => setTimeout(resolve, 100))
    // Kill the connection from the server side while the command waits for its reply.
    await server.kill()
    expect(RedisUnavailableError.isInstance(await pending)).toBe(true)
    await server.restart()
    await waitForReady(redis, 10_000)
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(await redis.get('inflight')).toBeNull()
  })

  it('rejects commands when nothing listens, within the connect timeout, without crashing', async () => {
    const redis = track(
      createRedis({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 500, reconnect: { maxMs: 100 } }),
    )
    const error = await redisCall(redis.get('x'), 5000).catch((e: unknown) => e)
    expect(RedisUnavailableError.isInstance(error)).toBe(true)
  })

  it('reports connection errors to onError', async () => {
    const errors: Error[] = []
    const redis = track(createRedis({ url: 'redis://127.0.0.1:1', onError: (error) => errors.push(error) }))
    await redis.ping().catch(() => {})
    expect(errors.length).toBeGreaterThan(0)
  })
})
