import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { createRedis } from '@x/redis-core'
import { targets, useRedis } from '@x/testkit/vitest'
import { Hono } from 'hono'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { ipKey } from '../ip-key.js'
import { createRateLimiter } from '../rate-limiter.js'
import { UNKNOWN_CLIENT_KEY } from './client-key.js'
import { honoRateLimit } from './hono.js'

describe.each(targets())('$name', (target) => {
  const redis = useRedis(target, createRedis)
  let n = 0
  const servers: Array<{ close(): unknown }> = []

  afterAll(() => {
    for (const server of servers) server.close()
  })

  const start = async (app: Hono): Promise<string> => {
    const port = await new Promise<number>((resolve) => {
      const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) =>
        resolve(info.port),
      )
      servers.push(server)
    })
    return `http://127.0.0.1:${port}`
  }

  it('limits by the socket address on @hono/node-server and answers 429 with problem details', async () => {
    const limiter = createRateLimiter({
      redis,
      prefix: `${target.prefix}:h${n++}`,
      algorithm: 'sliding-window',
      limit: 2,
      windowMs: 60_000,
    })
    const app = new Hono()
    app.use(honoRateLimit({ limiter }))
    app.get('/', (c) => c.text('ok'))
    const url = await start(app)
    const first = await fetch(url)
    expect(first.status).toBe(200)
    expect(await first.text()).toBe('ok')
    expect(first.headers.get('ratelimit')).toMatch(/^"default";r=1;t=\d+$/)
    expect(first.headers.get('ratelimit-policy')).toBe('"default";q=2;w=60')
    await fetch(url)
    const limited = await fetch(url)
    expect(limited.status).toBe(429)
    expect(limited.headers.get('content-type')).toBe('application/problem+json')
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(limited.headers.get('ratelimit')).toMatch(/^"default";r=0;t=\d+$/)
    expect(await limited.json()).toMatchObject({ type: 'about:blank', status: 429 })
    expect((await limiter.peek('127.0.0.1')).remaining).toBe(0)
  })

  it('a custom key and cost from the request', async () => {
    const limiter = createRateLimiter({
      redis,
      prefix: `${target.prefix}:h${n++}`,
      limit: 4,
      windowMs: 60_000,
    })
    const app = new Hono()
    app.use(
      '/api/*',
      honoRateLimit({
        limiter,
        key: (c) => c.req.header('authorization') ?? 'anonymous',
        cost: (c) => (c.req.method === 'POST' ? 4 : 1),
      }),
    )
    app.get('/api/item', (c) => c.json({ ok: true }))
    app.post('/api/item', (c) => c.json({ created: true }, 201))
    const url = await start(app)
    expect((await fetch(`${url}/api/item`, { method: 'POST', headers: { authorization: 'a' } })).status).toBe(
      201,
    )
    expect((await fetch(`${url}/api/item`, { headers: { authorization: 'a' } })).status).toBe(429)
    expect((await fetch(`${url}/api/item`, { method: 'POST', headers: { authorization: 'b' } })).status).toBe(
      201,
    )
  })

  it('without a socket address (app.request) every request shares one limited bucket instead of failing', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    try {
      const limiter = createRateLimiter({
        redis,
        prefix: `${target.prefix}:h${n++}`,
        limit: 2,
        windowMs: 60_000,
        // exact counts: a loaded machine must not turn a slow check into a fail-open one
        failureMode: 'throw',
        redisTimeoutMs: 30_000,
      })
      const app = new Hono()
      app.use(honoRateLimit({ limiter }))
      app.get('/', (c) => c.text('ok'))
      const statuses: number[] = []
      for (let i = 0; i < 4; i++) statuses.push((await app.request('/')).status)
      expect(statuses).toEqual([200, 200, 429, 429])
      expect((await limiter.peek(UNKNOWN_CLIENT_KEY)).remaining).toBe(0)
      expect(warn).toHaveBeenCalledTimes(1)
      expect(String(warn.mock.calls[0]![0])).toMatch(/no client address/)
    } finally {
      warn.mockRestore()
    }
  })

  it('a custom key through ipKey groups an IPv6 walk; a forwarding header without one is warned about once', async () => {
    const limiter = createRateLimiter({
      redis,
      prefix: `${target.prefix}:h${n++}`,
      limit: 2,
      windowMs: 60_000,
      // exact counts: a loaded machine must not turn a slow check into a fail-open one
      failureMode: 'throw',
      redisTimeoutMs: 30_000,
    })
    const app = new Hono()
    app.use(
      '/proxied',
      honoRateLimit({
        limiter,
        key: (c) => ipKey(c.req.header('x-real-ip') ?? 'unknown', { ipv6Subnet: 64 }),
      }),
    )
    app.use('/direct', honoRateLimit({ limiter }))
    app.get('/*', (c) => c.text('ok'))
    const url = await start(app)
    const statuses: number[] = []
    for (let i = 1; i <= 4; i++) {
      const headers = { 'x-real-ip': `2001:db8:5:6:${i}:${i}:${i}:${i}` }
      statuses.push((await fetch(`${url}/proxied`, { headers })).status)
    }
    expect(statuses).toEqual([200, 200, 429, 429])
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    try {
      for (let i = 0; i < 2; i++)
        await fetch(`${url}/direct`, { headers: { 'x-forwarded-for': '192.0.2.1' } })
      expect(warn).toHaveBeenCalledTimes(1)
      expect(String(warn.mock.calls[0]![0])).toMatch(/X-Forwarded-For/)
    } finally {
      warn.mockRestore()
    }
  })
})
