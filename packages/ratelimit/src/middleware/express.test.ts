import type { AddressInfo } from 'node:net'
import { createRedis } from '@x/redis-core'
import { targets, useRedis } from '@x/testkit/vitest'
import express from 'express'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { createRateLimiter } from '../rate-limiter.js'
import { expressRateLimit } from './express.js'

describe.each(targets())('$name', (target) => {
  const redis = useRedis(target, createRedis)
  let n = 0
  const servers: Array<{ close(): unknown }> = []

  afterAll(() => {
    for (const server of servers) server.close()
  })

  const start = async (app: express.Express): Promise<string> => {
    const server = app.listen(0, '127.0.0.1')
    servers.push(server)
    await new Promise((resolve) => server.once('listening', resolve))
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  }

  it('limits by client IP, sets the headers, answers 429 with problem details', async () => {
    const limiter = createRateLimiter({
      redis,
      prefix: `${target.prefix}:e${n++}`,
      limit: 2,
      windowMs: 60_000,
    })
    const app = express()
    app.use(expressRateLimit({ limiter }))
    app.get('/', (_request, response) => {
      response.send('ok')
    })
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
    const body = await limited.json()
    expect(body).toMatchObject({ type: 'about:blank', title: 'Too Many Requests', status: 429 })
    expect((await limiter.peek('127.0.0.1')).remaining).toBe(0)
  })

  it('a custom key and cost; a key of undefined skips limiting', async () => {
    const limiter = createRateLimiter({
      redis,
      prefix: `${target.prefix}:e${n++}`,
      limit: 3,
      windowMs: 60_000,
      // exact counts: a loaded machine must not turn a slow check into a fail-open one
      failureMode: 'throw',
      redisTimeoutMs: 30_000,
    })
    const app = express()
    app.use(
      expressRateLimit({
        limiter,
        key: (request) => request.get('x-api-key') ?? undefined,
        cost: (request) => (request.path === '/expensive' ? 3 : 1),
        headers: { legacy: true, policy: false },
      }),
    )
    app.get('/{*path}', (_request, response) => {
      response.send('ok')
    })
    const url = await start(app)
    const expensive = await fetch(`${url}/expensive`, { headers: { 'x-api-key': 'alice' } })
    expect(expensive.status).toBe(200)
    expect(expensive.headers.get('x-ratelimit-remaining')).toBe('0')
    expect(expensive.headers.get('ratelimit-policy')).toBeNull()
    expect((await fetch(url, { headers: { 'x-api-key': 'alice' } })).status).toBe(429)
    expect((await fetch(url, { headers: { 'x-api-key': 'bob' } })).status).toBe(200)
    const anonymous = await fetch(url)
    expect(anonymous.status).toBe(200)
    expect(anonymous.headers.get('ratelimit')).toBeNull()
  })

  it('groups IPv6 clients by a /56: a walk through one /64 is limited (or not, with ipv6Subnet: false)', async () => {
    const walk = async (ipv6Subnet?: false) => {
      const limiter = createRateLimiter({
        redis,
        prefix: `${target.prefix}:e${n++}`,
        limit: 3,
        windowMs: 60_000,
        // exact counts: a loaded machine must not turn a slow check into a fail-open one
        failureMode: 'throw',
        redisTimeoutMs: 30_000,
      })
      const app = express()
      // The addresses come from X-Forwarded-For, which Express reads once a proxy is trusted.
      app.set('trust proxy', true)
      app.use(expressRateLimit({ limiter, ...(ipv6Subnet === undefined ? {} : { ipv6Subnet }) }))
      app.get('/', (_request, response) => {
        response.send('ok')
      })
      const url = await start(app)
      const statuses: number[] = []
      for (let i = 1; i <= 8; i++) {
        const address = `2001:db8:7:42:${i.toString(16)}:${(i * 7).toString(16)}::${i}`
        statuses.push((await fetch(url, { headers: { 'x-forwarded-for': address } })).status)
      }
      return { statuses, limiter }
    }
    const grouped = await walk()
    expect(grouped.statuses).toEqual([200, 200, 200, 429, 429, 429, 429, 429])
    expect((await grouped.limiter.peek('2001:db8:7::/56')).remaining).toBe(0)
    expect((await walk(false)).statuses).toEqual(Array(8).fill(200))
  })

  it('keys an IPv4 client of a dual-stack server on its IPv4 address, not ::ffff:…', async () => {
    const limiter = createRateLimiter({
      redis,
      prefix: `${target.prefix}:e${n++}`,
      limit: 2,
      windowMs: 60_000,
    })
    const app = express()
    app.use(expressRateLimit({ limiter }))
    app.get('/', (request, response) => {
      response.send(request.socket.remoteAddress)
    })
    const server = app.listen(0, '::')
    servers.push(server)
    await new Promise((resolve) => server.once('listening', resolve))
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
    expect(await response.text()).toBe('::ffff:127.0.0.1')
    expect((await limiter.peek('127.0.0.1')).remaining).toBe(1)
  })

  it('warns once when requests carry X-Forwarded-For or Forwarded while no proxy is trusted', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    try {
      const limiter = createRateLimiter({
        redis,
        prefix: `${target.prefix}:e${n++}`,
        limit: 100,
        windowMs: 60_000,
      })
      const app = express()
      app.use(expressRateLimit({ limiter }))
      app.get('/', (_request, response) => {
        response.send('ok')
      })
      const url = await start(app)
      await fetch(url)
      expect(warn).not.toHaveBeenCalled()
      for (const header of ['x-forwarded-for', 'forwarded', 'x-forwarded-for']) {
        expect(
          (
            await fetch(url, {
              headers: { [header]: header === 'forwarded' ? 'for=192.0.2.60' : '192.0.2.60' },
            })
          ).status,
        ).toBe(200)
      }
      expect(warn).toHaveBeenCalledTimes(1)
      expect(String(warn.mock.calls[0]![0])).toMatch(/trust proxy/)
      // Every request was keyed on the socket address (the header was not believed).
      expect((await limiter.peek('127.0.0.1')).remaining).toBe(96)
    } finally {
      warn.mockRestore()
    }
  })

  it('does not warn when Express trusts the proxy', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    try {
      const limiter = createRateLimiter({
        redis,
        prefix: `${target.prefix}:e${n++}`,
        limit: 100,
        windowMs: 60_000,
      })
      const app = express()
      app.set('trust proxy', 'loopback')
      app.use(expressRateLimit({ limiter }))
      app.get('/', (_request, response) => {
        response.send('ok')
      })
      const url = await start(app)
      await fetch(url, { headers: { 'x-forwarded-for': '192.0.2.60' } })
      expect(warn).not.toHaveBeenCalled()
      expect((await limiter.peek('192.0.2.60')).remaining).toBe(99)
    } finally {
      warn.mockRestore()
    }
  })

  it('a limiter error goes to the Express error handler', async () => {
    const app = express()
    app.use(
      expressRateLimit({
        limiter: {
          limit: () => {
            throw new Error('boom')
          },
        },
      }),
    )
    app.get('/', (_request, response) => {
      response.send('ok')
    })
    app.use(
      (
        _error: unknown,
        _request: express.Request,
        response: express.Response,
        _next: express.NextFunction,
      ) => {
        response.status(503).send('handled')
      },
    )
    const url = await start(app)
    const response = await fetch(url)
    expect(response.status).toBe(503)
    expect(await response.text()).toBe('handled')
  })
})
