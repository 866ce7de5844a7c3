import { type RedisServer, startRedis } from '@x/testkit'
import { eventually } from '@x/testkit/vitest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeOnSignals, closeRedis } from './close.js'
import { createRedis } from './create-redis.js'
import { duplicateClient } from './duplicate.js'
import { waitForReady } from './ready.js'
import { sharedRedis } from './shared-redis.js'

describe('closing and probing', () => {
  let server: RedisServer
  beforeAll(async () => {
    server = await startRedis()
  })
  afterAll(() => server.stop())

  it('closeRedis sends QUIT to a healthy server', async () => {
    const redis = createRedis({ url: server.url })
    await waitForReady(redis)
    await closeRedis(redis)
    expect(redis.status).toBe('end')
  })

  it('closeRedis gives up on QUIT and drops the connection when the server hangs', async () => {
    const redis = createRedis({ url: server.url })
    await waitForReady(redis)
    server.pause()
    try {
      // The server stays paused until after the close: only the timeoutMs fallback can end it.
      await closeRedis(redis, { timeoutMs: 300 })
      expect(['end', 'close']).toContain(redis.status)
    } finally {
      server.resume()
    }
  })

  it('closeRedis is safe on a client that never connected or is already closed', async () => {
    const redis = createRedis({ url: 'redis://127.0.0.1:1', redisOptions: { lazyConnect: true } })
    await closeRedis(redis)
    await closeRedis(redis)
    expect(redis.status).toBe('end')
  })

  it('closeOnSignals installs handlers only when asked and removes them', async () => {
    const before = process.listenerCount('SIGTERM')
    const redis = createRedis({ url: server.url })
    const remove = closeOnSignals([redis], { exit: false })
    expect(process.listenerCount('SIGTERM')).toBe(before + 1)
    process.emit('SIGTERM', 'SIGTERM')
    await eventually(() => redis.status === 'end')
    expect(process.listenerCount('SIGTERM')).toBe(before)
    remove()
  })

  it('sharedRedis returns one client per process and name, and a new one after close', async () => {
    const a = sharedRedis({ url: server.url })
    const b = sharedRedis({ url: server.url })
    const other = sharedRedis({ url: server.url, name: 'other' })
    expect(a).toBe(b)
    expect(other).not.toBe(a)
    await closeRedis(a)
    await closeRedis(other)
    expect(sharedRedis({ url: server.url })).not.toBe(a)
    await closeRedis(sharedRedis({ url: server.url }))
  })

  it('waitForReady rejects with a typed error when Redis never comes', async () => {
    const redis = createRedis({
      url: 'redis://127.0.0.1:1',
      reconnect: { maxMs: 100 },
      logConnectionErrors: false,
    })
    await expect(waitForReady(redis, 1000)).rejects.toMatchObject({
      code: 'E_REDIS_UNAVAILABLE',
      address: '127.0.0.1:1',
      rootCause: 'ECONNREFUSED',
      neverConnected: true,
    })
    redis.disconnect()
  })
})

describe('waitForReady', () => {
  it('shares one wait between concurrent callers', async () => {
    const server = await startRedis()
    const redis = createRedis({ url: server.url, redisOptions: { lazyConnect: true } })
    const before = redis.listenerCount('ready')
    const waits = Array.from({ length: 50 }, () => waitForReady(redis))
    expect(redis.listenerCount('ready')).toBeLessThanOrEqual(before + 2)
    await Promise.all(waits)
    expect(redis.status).toBe('ready')
    await closeRedis(redis)
    await server.stop()
  })
})

describe('duplicateClient', () => {
  it('gives a copy that can SUBSCRIBE before it connected, then fails fast like its parent', async () => {
    const server = await startRedis()
    const redis = createRedis({ url: server.url })
    await waitForReady(redis)
    expect(redis.options.enableOfflineQueue).toBe(false)
    const copy = duplicateClient(redis)
    await copy.subscribe('news')
    expect(copy.options.enableOfflineQueue).toBe(false)
    const received = new Promise<string>((resolve) =>
      copy.on('message', (_channel, message) => resolve(message)),
    )
    await redis.publish('news', 'hello')
    expect(await received).toBe('hello')
    await closeRedis(copy)
    await closeRedis(redis)
    await server.stop()
  })
})
