import { createRedis, type RedisClient, RedisUnavailableError, TimeoutError } from '@x/redis-core'
import { type RedisServer, startRedis } from '@x/testkit'
import { eventually, sleep } from '@x/testkit/vitest'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createConcurrencyLimiter } from './concurrency-limiter.js'
import { headers } from './headers.js'
import { createMemoryRateLimiter } from './memory-limiter.js'
import { createRateLimiter, type FailureMode } from './rate-limiter.js'

// Fault tests pause and restart their own server, never the shared ones.
describe('when Redis fails', () => {
  let server: RedisServer
  let redis: RedisClient
  let n = 0
  const prefix = () => `fail${n++}`

  beforeAll(async () => {
    server = await startRedis()
    redis = createRedis({ url: server.url })
  })
  afterEach(() => {
    server.resume()
  })
  afterAll(async () => {
    redis.disconnect()
    await server.stop()
  })

  const pausedCheck = async (failureMode: FailureMode) => {
    const errors: unknown[] = []
    const limiter = createRateLimiter({
      redis,
      prefix: prefix(),
      limit: 2,
      windowMs: 60_000,
      redisTimeoutMs: 1000,
      failureMode,
    })
    limiter.on('error', ({ error }) => errors.push(error))
    // Generous timeouts: the machine is shared, and a slow first call must not fail open here.
    expect((await limiter.limit('k')).reason).toBeUndefined()
    server.pause()
    const started = Date.now()
    const results = [await limiter.limit('k'), await limiter.limit('k')]
    // Answered while the server is still paused (it stays paused until resumed below).
    expect(Date.now() - started).toBeLessThan(10_000)
    server.resume()
    return { results, errors, limiter }
  }

  it('fail-open admits within redisTimeoutMs and says so', async () => {
    const { results, errors, limiter } = await pausedCheck('fail-open')
    for (const result of results) {
      expect(result.allowed).toBe(true)
      expect(result.reason).toBe('fail-open')
      // Nothing is known of the budget: never a full quota.
      expect(result.remaining).toBe(0)
      expect(result.policies[0]!.remaining).toBe(0)
      expect(headers(result).RateLimit).toBeUndefined()
    }
    expect(errors).toHaveLength(2)
    expect(TimeoutError.isInstance(errors[0])).toBe(true)
    expect(limiter.stats()).toMatchObject({ checks: 3, failOpenAnswers: 2, redisErrors: 2, timeouts: 2 })
  })

  it('fail-closed rejects within redisTimeoutMs and says so', async () => {
    const { results } = await pausedCheck('fail-closed')
    for (const result of results) {
      expect(result.allowed).toBe(false)
      expect(result.reason).toBe('fail-closed')
      expect(result.retryAfterMs).toBe(1000)
    }
  })

  it('a fallback limiter decides in its place and the result says so', async () => {
    const fallback = createMemoryRateLimiter({ policies: [{ limit: 1, windowMs: 60_000 }] })
    const { results } = await pausedCheck(fallback)
    expect(results.map((result) => [result.allowed, result.reason])).toEqual([
      [true, 'fallback'],
      [false, 'fallback'],
    ])
  })

  it("'throw' rejects with the typed error", async () => {
    const limiter = createRateLimiter({
      redis,
      prefix: prefix(),
      limit: 2,
      windowMs: 1000,
      redisTimeoutMs: 1000,
      failureMode: 'throw',
    })
    await limiter.limit('k')
    server.pause()
    await expect(limiter.limit('k')).rejects.toSatisfy(TimeoutError.isInstance)
  })

  it('a server that is down fails fast with RedisUnavailableError', async () => {
    const own = await startRedis()
    const client = createRedis({ url: own.url, reconnect: { baseMs: 50, maxMs: 100 } })
    const errors: unknown[] = []
    try {
      const limiter = createRateLimiter({
        redis: client,
        limit: 1,
        windowMs: 1000,
      })
      limiter.on('error', ({ error }) => errors.push(error))
      expect((await limiter.limit('k')).reason).toBe(undefined)
      await own.kill()
      await eventually(async () => (await limiter.limit('k')).reason === 'fail-open')
      expect(errors.some((error) => RedisUnavailableError.isInstance(error))).toBe(true)
    } finally {
      client.disconnect()
      await own.stop()
    }
  })

  describe.each([
    ['createRedis()', (url: string) => createRedis({ url })],
    ['a plain ioredis client (resends on reconnect)', (url: string) => new Redis(url)],
  ] as const)('with %s', (_, connect) => {
    it('a check that timed out is not applied when the paused server resumes', async () => {
      const client = connect(server.url)
      client.on('error', () => {})
      try {
        const limiter = createRateLimiter({
          redis: client,
          prefix: prefix(),
          limit: 10,
          windowMs: 60_000,
          redisTimeoutMs: 1000,
        })
        expect((await limiter.limit('k')).remaining).toBe(9)
        server.pause()
        expect((await limiter.limit('k')).reason).toBe('fail-open')
        expect((await limiter.limit('k', { cost: 3 })).reason).toBe('fail-open')
        await sleep(500)
        server.resume()
        // The two late commands run now (they sat in the server's socket) but change nothing.
        await eventually(async () => (await limiter.peek('k').catch(() => undefined)) !== undefined)
        await sleep(100)
        expect((await limiter.peek('k')).remaining).toBe(9)
      } finally {
        client.disconnect()
      }
    })

    it.each(['gcra', 'fixed-window'] as const)(
      'a %s limiter whose very first checks time out changes nothing when the server resumes',
      async (algorithm) => {
        const client = connect(server.url)
        client.on('error', () => {})
        try {
          const limiter = createRateLimiter({
            redis: client,
            prefix: prefix(),
            algorithm,
            limit: 10,
            windowMs: 60_000,
            redisTimeoutMs: 300,
          })
          // Connected, but this limiter has never had a reply: it knows nothing of the server clock.
          await client.ping()
          server.pause()
          expect((await limiter.limit('k')).reason).toBe('fail-open')
          expect((await limiter.limit('k', { cost: 2 })).reason).toBe('fail-open')
          server.resume()
          // peek is answered after the late checks ran (one connection, in order).
          await eventually(async () => (await limiter.peek('k').catch(() => undefined)) !== undefined)
          expect((await limiter.peek('k')).remaining).toBe(10)
          expect((await limiter.limit('k')).remaining).toBe(9)
        } finally {
          client.disconnect()
        }
      },
    )

    it('a check that timed out is not replayed after a restart', async () => {
      const own = await startRedis()
      const client = connect(own.url)
      client.on('error', () => {})
      try {
        const limiter = createRateLimiter({
          redis: client,
          prefix: prefix(),
          limit: 10,
          windowMs: 60_000,
          redisTimeoutMs: 1000,
        })
        expect((await limiter.limit('k')).remaining).toBe(9)
        own.pause()
        expect((await limiter.limit('k', { cost: 4 })).reason).toBe('fail-open')
        await own.restart()
        await eventually(async () => (await limiter.peek('k').catch(() => undefined)) !== undefined, 10_000)
        await sleep(200)
        // The restarted server starts empty: any count here would come from a replayed command.
        expect((await limiter.peek('k')).remaining).toBe(10)
      } finally {
        client.disconnect()
        await own.stop()
      }
    })
  })

  describe('concurrency limiter', () => {
    it.each(['fail-open', 'fail-closed', 'throw'] as const)('%s on a paused server', async (failureMode) => {
      const errors: unknown[] = []
      const limiter = createConcurrencyLimiter({
        redis,
        prefix: prefix(),
        limit: 1,
        redisTimeoutMs: 1000,
        failureMode,
      })
      limiter.on('error', ({ error }) => errors.push(error))
      const held = await limiter.acquire('job')
      expect(held.acquired).toBe(true)
      await held.lease!.release()
      server.pause()
      if (failureMode === 'throw') {
        await expect(limiter.acquire('job')).rejects.toSatisfy(TimeoutError.isInstance)
        return
      }
      const result = await limiter.acquire('job')
      expect(result.reason).toBe(failureMode)
      expect(result.acquired).toBe(failureMode === 'fail-open')
      expect(result.remaining).toBe(0)
      expect(errors).toHaveLength(1)
      // A fail-open lease was never recorded, so releasing it is a no-op.
      if (result.acquired) expect(await result.lease.release()).toBe(false)
    })

    it('the very first acquire of a limiter, timed out, takes no lease when the server resumes', async () => {
      const limiter = createConcurrencyLimiter({
        redis,
        prefix: prefix(),
        limit: 1,
        redisTimeoutMs: 300,
        leaseMs: 60_000,
      })
      await redis.ping()
      server.pause()
      expect((await limiter.acquire('job')).reason).toBe('fail-open')
      server.resume()
      await eventually(async () => (await limiter.active('job').catch(() => -1)) >= 0)
      expect(await limiter.active('job')).toBe(0)
      expect((await limiter.acquire('job')).acquired).toBe(true)
    })

    it('an acquire that timed out takes no lease when the server resumes', async () => {
      const limiter = createConcurrencyLimiter({
        redis,
        prefix: prefix(),
        limit: 1,
        redisTimeoutMs: 1000,
        leaseMs: 60_000,
      })
      const first = await limiter.acquire('job')
      await first.lease!.release()
      server.pause()
      expect((await limiter.acquire('job')).reason).toBe('fail-open')
      await sleep(200)
      server.resume()
      await eventually(async () => (await limiter.active('job').catch(() => -1)) >= 0)
      expect(await limiter.active('job')).toBe(0)
      expect((await limiter.acquire('job')).acquired).toBe(true)
    })
  })
})
