import { createRedis, type RedisClient, RedisUnavailableError, TimeoutError } from '@x/redis-core'
import { type RedisServer, startRedis } from '@x/testkit'
import { eventually } from '@x/testkit/vitest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LockLostError } from './errors.js'
import { createLock, type Lock } from './lock.js'
import type { LockEvents } from './types.js'

describe('faults on a private server', () => {
  let server: RedisServer
  let redis: RedisClient
  let lock: Lock
  const errors: Array<LockEvents['error']> = []

  beforeAll(async () => {
    server = await startRedis()
    redis = createRedis({ url: server.url, commandTimeoutMs: 1000 })
    lock = createLock({
      redis,
      prefix: 'faults',
      redisTimeoutMs: 500,
    })
    lock.on('error', (event) => errors.push(event))
    // Connect and load the scripts first: on a loaded machine a cold first acquire (connect, NOSCRIPT,
    // EVAL) can take longer than the 500 ms these fault tests give each call.
    await eventually(async () => {
      const lease = await lock.tryAcquire('warm-up').catch(() => null)
      await lease?.release()
      return lease !== null
    }, 30_000)
  }, 60_000)

  afterAll(async () => {
    await lock.close()
    redis.disconnect()
    await server.stop()
  })

  it('aborts the signal with LockLostError when Redis is paused beyond the ttl, without throwing', async () => {
    const result = await lock.withLock(
      'paused',
      async (signal) => {
        server.pause(1500)
        await eventually(() => signal.aborted, 10_000)
        expect(LockLostError.isInstance(signal.reason)).toBe(true)
        return 'done'
      },
      { ttlMs: 400 },
    )
    expect(result).toBe('done')
    server.resume()
    await eventually(async () => (await redis.ping().catch(() => null)) === 'PONG', 10_000)
    // The failed extensions (timeouts) went to the error event; none escaped as a rejection.
    expect(errors.some((event) => event.operation === 'extend' || event.operation === 'release')).toBe(true)
    expect(lock.stats().redisErrors).toBeGreaterThan(0)
    expect(lock.stats().losses).toBeGreaterThan(0)
  }, 20_000)

  it('does not hand out a lease whose acquire reply came back after its ttl', async () => {
    const slow = createLock({ redis, prefix: 'faults', redisTimeoutMs: 5000 })
    // The server runs SET PX 200 only after the pause, but the caller has already waited 400 ms:
    // the lock would look valid in Redis but expire before the caller could use it.
    server.pause(400)
    const lease = await slow.tryAcquire('late', { ttlMs: 200 })
    expect(lease).toBeNull()
    expect((await slow.inspect('late')).locked).toBe(false)
    await slow.close()
  }, 20_000)

  it('fails fast with a typed error while Redis is down, and works again after a restart', async () => {
    const before = await lock.acquire('down')
    await before.release()
    await server.kill()
    const error = await lock.acquire('down', { waitMs: 1000 }).catch((caught: unknown) => caught)
    expect(RedisUnavailableError.isInstance(error) || TimeoutError.isInstance(error)).toBe(true)
    await server.restart()
    await eventually(async () => (await redis.ping().catch(() => null)) === 'PONG', 15_000)
    // The server came back without its data (no persistence), the fencing counter included: the
    // server clock still puts the next fence above the last one.
    expect(await redis.exists('faults:{down}:fence')).toBe(0)
    const lease = await lock.acquire('down')
    expect(lease.fence).toBeGreaterThan(before.fence)
    await lease.release()
  }, 30_000)
})
