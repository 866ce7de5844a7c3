import { type RedisServer, startRedis } from '@x/testkit'
import { targets, useRedis } from '@x/testkit/vitest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRedis } from './create-redis.js'
import { InvalidArgumentError, TimeoutError } from './errors.js'
import { ping, serverTime } from './server-time.js'

describe.each(targets())('ping and serverTime on the shared $name', (target) => {
  const redis = useRedis(target, createRedis)

  it('serverTime reads the server clock in milliseconds', async () => {
    const [seconds] = await redis.time()
    const time = await serverTime(redis)
    expect(Number.isInteger(time)).toBe(true)
    // Same clock, read twice: within the same few seconds, whatever the machine's speed.
    expect(Math.abs(time - Number(seconds) * 1000)).toBeLessThan(60_000)
  })

  it('ping reports a latency', async () => {
    const { latencyMs } = await ping(redis)
    expect(latencyMs).toBeGreaterThanOrEqual(0)
  })

  it('rejects a timeout that is not a positive number', async () => {
    await expect(ping(redis, { timeoutMs: 0 })).rejects.toThrow(InvalidArgumentError)
    await expect(serverTime(redis, { timeoutMs: Number.NaN })).rejects.toThrow(InvalidArgumentError)
  })
})

describe('ping and serverTime on a paused server, with a client that has no command timeout', () => {
  let server: RedisServer

  beforeAll(async () => {
    server = await startRedis()
  })

  afterAll(async () => {
    server.resume()
    await server.stop()
  })

  it('give up with TimeoutError (timeoutMs field) instead of waiting forever', async () => {
    // A plain ioredis client: no commandTimeout, so only the helper's own deadline can end the wait.
    const client = server.client()
    await client.ping()
    server.pause()
    try {
      const [pinged, timed] = await Promise.all([
        ping(client, { timeoutMs: 200 }).catch((error: unknown) => error),
        serverTime(client).catch((error: unknown) => error),
      ])
      expect(TimeoutError.isInstance(pinged)).toBe(true)
      expect(TimeoutError.isInstance(timed)).toBe(true)
      expect(TimeoutError.isInstance(pinged) && pinged.timeoutMs).toBe(200)
      expect(TimeoutError.isInstance(timed) && timed.timeoutMs).toBe(1000)
    } finally {
      server.resume()
    }
  })
})
