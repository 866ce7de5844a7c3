import { createRedis } from '@x/redis-core'
import { targets, useRedis } from '@x/testkit/vitest'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { createRateLimiter } from '../rate-limiter.js'
import type { RateLimitResult } from '../result.js'
import { fastifyRateLimit } from './fastify.js'

describe.each(targets())('$name', (target) => {
  const redis = useRedis(target, createRedis)
  let n = 0
  const apps: FastifyInstance[] = []

  afterAll(async () => {
    for (const app of apps) await app.close()
  })

  const start = async (app: FastifyInstance) => {
    apps.push(app)
    return app.listen({ port: 0, host: '127.0.0.1' })
  }

  it('the plugin limits every route by client IP and answers 429 with problem details', async () => {
    const limiter = createRateLimiter({
      redis,
      prefix: `${target.prefix}:f${n++}`,
      policies: [
        { name: 'burst', limit: 2, windowMs: 10_000 },
        { name: 'daily', algorithm: 'fixed-window', limit: 100, windowMs: 86_400_000 },
      ],
    })
    const app = Fastify()
    await app.register(fastifyRateLimit, { limiter })
    app.get('/', async () => ({ ok: true }))
    app.get('/other', async () => 'other')
    const url = await start(app)
    const first = await fetch(url)
    expect(first.status).toBe(200)
    expect(await first.json()).toEqual({ ok: true })
    expect(first.headers.get('ratelimit')).toMatch(/^"burst";r=1;t=\d+, "daily";r=99;t=\d+$/)
    expect(first.headers.get('ratelimit-policy')).toBe('"burst";q=2;w=10, "daily";q=100;w=86400')
    expect((await fetch(`${url}/other`)).status).toBe(200)
    const limited = await fetch(`${url}/other`)
    expect(limited.status).toBe(429)
    expect(limited.headers.get('content-type')).toMatch(/^application\/problem\+json/)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(await limited.json()).toMatchObject({ status: 429, title: 'Too Many Requests' })
  })

  it('a custom key, and a custom 429 body', async () => {
    const limiter = createRateLimiter({
      redis,
      prefix: `${target.prefix}:f${n++}`,
      limit: 1,
      windowMs: 60_000,
    })
    const app = Fastify()
    await app.register(fastifyRateLimit, {
      limiter,
      key: (request: { ip: string; headers: Record<string, string | string[] | undefined> }) =>
        String(request.headers['x-user'] ?? request.ip),
      body: (result: RateLimitResult) => ({ error: 'slow down', retryAfterMs: result.retryAfterMs }),
    })
    app.get('/', async () => 'ok')
    const url = await start(app)
    expect((await fetch(url, { headers: { 'x-user': 'u1' } })).status).toBe(200)
    const limited = await fetch(url, { headers: { 'x-user': 'u1' } })
    expect(limited.status).toBe(429)
    expect(((await limited.json()) as { error: string }).error).toBe('slow down')
    expect((await fetch(url, { headers: { 'x-user': 'u2' } })).status).toBe(200)
  })

  it('groups IPv6 clients by a /56 behind a trusted proxy, and warns once when no proxy is trusted', async () => {
    const walk = async (trustProxy: boolean) => {
      const limiter = createRateLimiter({
        redis,
        prefix: `${target.prefix}:f${n++}`,
        limit: 3,
        windowMs: 60_000,
        // exact counts: a loaded machine must not turn a slow check into a fail-open one
        failureMode: 'throw',
        redisTimeoutMs: 30_000,
      })
      const app = Fastify({ trustProxy })
      await app.register(fastifyRateLimit, { limiter })
      app.get('/', async () => 'ok')
      const url = await start(app)
      const statuses: number[] = []
      for (let i = 1; i <= 6; i++) {
        const address = `2001:db8:9:1:${i.toString(16)}::${(i * 3).toString(16)}`
        statuses.push((await fetch(url, { headers: { 'x-forwarded-for': address } })).status)
      }
      return statuses
    }
    expect(await walk(true)).toEqual([200, 200, 200, 429, 429, 429])
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    try {
      // Not trusted: every request is the socket's 127.0.0.1, and the operator is told once.
      expect(await walk(false)).toEqual([200, 200, 200, 429, 429, 429])
      expect(warn).toHaveBeenCalledTimes(1)
      expect(String(warn.mock.calls[0]![0])).toMatch(/trustProxy/)
    } finally {
      warn.mockRestore()
    }
  })
})
