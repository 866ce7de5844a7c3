import { connect, createServer } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AppProcess, startApp } from './harness/app-process.js'
import { openEvents, type SseStream } from './harness/sse.js'

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

const ipLimit = 5

describe('a fresh machine: no REDIS_URL, no DATABASE_URL', () => {
  let app: AppProcess | undefined
  let events: SseStream | undefined
  beforeAll(async () => {
    app = await startApp({ name: 'solo', env: { RATE_LIMIT_IP_PER_MINUTE: String(ipLimit) } })
  }, 120_000)
  afterAll(async () => {
    events?.close()
    await app?.stop()
  }, 30_000)

  it('starts a throwaway redis-server, says so, and prints the URL and example curl commands', async () => {
    const output = app!.output()
    expect(output).toMatch(
      /REDIS_URL is not set: started a throwaway redis-server at redis:\/\/127\.0\.0\.1:\d+/,
    )
    expect(output).toContain(`listening on ${app!.url}`)
    expect(output).toContain(`curl ${app!.url}/health`)
    expect(output).toContain('PGlite in memory')
  })

  it('answers GET /health with the Redis and database status, on the PORT it was given', async () => {
    const response = await app!.fetch('/health')
    expect(response.status).toBe(200)
    const body = await response.json()
    expect(body).toMatchObject({
      status: 'ok',
      instance: 'solo',
      redis: { ok: true },
      database: { ok: true, kind: 'pglite' },
    })
    // Kept open until the shutdown test (before the IP limit test spends the budget).
    events = await openEvents(app!)
  })

  it('limits every request per client IP, probes included, with the standard headers', async () => {
    // What earlier requests (start-up probe, /health, the event stream) left of the budget; /ratelimit
    // itself counts too, and reports the budget after it.
    const started = Date.now()
    const state = (await (await app!.fetch('/ratelimit')).json()) as {
      ip: { remaining: number; limit: number }
    }
    expect(state.ip.limit).toBe(ipLimit)
    const budget = state.ip.remaining
    expect(budget).toBeGreaterThan(0)
    const statuses: number[] = []
    let refused: Response | undefined
    for (let i = 0; i < 2 * ipLimit; i++) {
      const response = await app!.fetch('/health')
      statuses.push(response.status)
      if (response.status === 429) refused ??= response
      else expect(response.headers.get('ratelimit-policy')).toBe(`"ip";q=${ipLimit};w=60`)
    }
    // GCRA at 5 per minute: one more slot per 12 s of the loop, plus one for the budget's rounding
    // down when it was read.
    const earned = 1 + Math.floor((Date.now() - started) / (60_000 / ipLimit))
    expect(statuses.filter((status) => status === 200).length).toBeGreaterThanOrEqual(budget)
    expect(statuses.filter((status) => status === 200).length).toBeLessThanOrEqual(budget + earned)
    expect(refused!.headers.get('retry-after')).toMatch(/^[1-9]\d*$/)
    expect(refused!.headers.get('content-type')).toContain('application/problem+json')
    expect(refused!.headers.get('x-instance')).toBe('solo')
    expect(await refused!.json()).toMatchObject({ status: 429, limit: 'ip' })
  })

  it('shuts down on SIGTERM with exit code 0, even with an event stream open, and stops its throwaway redis-server', async () => {
    const match = /throwaway redis-server at redis:\/\/127\.0\.0\.1:(\d+)/.exec(app!.output())
    const redisPort = Number(match![1])
    expect(await portAnswers(redisPort)).toBe(true)
    // The stream opened above is still open: shutdown must end it, or server.close() would wait.
    expect(events!.events.some((event) => event.event === 'ready')).toBe(true)
    expect(await app!.stop()).toBe(0)
    events!.close()
    expect(await portAnswers(redisPort)).toBe(false)
    expect(app!.output()).toContain('SIGTERM: shutting down')
  })
})

describe('pnpm playground: two instances in one process', () => {
  let app: AppProcess | undefined
  afterAll(async () => {
    await app?.stop()
  }, 30_000)

  it('serves A and B on consecutive ports, sharing Redis and the database, with a side-by-side page', async () => {
    app = await startApp({ name: 'pair', env: { INSTANCES: '2', INSTANCE_ID: '' } })
    const match = /playground B listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(app.output())
    expect(match, app.output()).not.toBeNull()
    const urlB = match![1]!
    expect(app.output()).toContain(`playground A listening on ${app.url}`)
    const [healthA, healthB] = await Promise.all([app.fetch('/health'), fetch(`${urlB}/health`)])
    expect(healthA.headers.get('x-instance')).toBe('A')
    expect(healthB.headers.get('x-instance')).toBe('B')
    // A session made on A opens B: one Redis. The profile read on B comes from one database.
    const signedIn = await app.fetch('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'ada@example.com', password: 'playground' }),
    })
    const cookie = signedIn.headers.get('set-cookie')!.split(';')[0]!
    const me = await fetch(`${urlB}/me`, { headers: { cookie } })
    expect(me.status).toBe(200)
    expect(await me.json()).toMatchObject({ user: { name: 'Ada Lovelace' } })
    // B's page may be framed by A's side-by-side page, and by no other site.
    const pageB = await fetch(`${urlB}/`)
    expect(pageB.headers.get('content-security-policy')).toBe(`frame-ancestors 'self' ${app.url} ${urlB}`)
    const side = await (await app.fetch('/side-by-side')).text()
    expect(side).toContain(`<iframe src="${app.url}/"`)
    expect(side).toContain(`<iframe src="${urlB}/"`)
    expect(await app.stop()).toBe(0)
  }, 120_000)
})

describe('start-up failures a newcomer meets say what to do, without a stack trace', () => {
  const noStack = /\n\s+at /

  it('no redis-server installed (and no REDIS_URL)', async () => {
    const failure = await startApp({
      name: 'no-redis',
      env: { REDIS_SERVER_BIN: '/nonexistent/redis-server' },
    }).then(
      () => new Error('started without a redis-server'),
      (error: Error) => error,
    )
    expect(failure.message).toMatch(/exited with 1 during start-up/)
    expect(failure.message).toContain('tried to start a throwaway redis-server')
    expect(failure.message).toContain('apt-get install -y redis-server')
    expect(failure.message).toContain('REDIS_URL=')
    expect(failure.message).not.toMatch(/tests/)
    expect(failure.message).not.toMatch(noStack)
  })

  it('the port is taken', async () => {
    const busy = createServer()
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve))
    const port = (busy.address() as { port: number }).port
    try {
      const failure = await startApp({ name: 'busy', env: { PORT: String(port) } }).then(
        () => new Error('started on a busy port'),
        (error: Error) => error,
      )
      expect(failure.message).toMatch(/exited with 1 during start-up/)
      expect(failure.message).toContain(`port ${port} on 127.0.0.1 is already in use`)
      expect(failure.message).toContain(`PORT=${port + 1} pnpm playground`)
      expect(failure.message).not.toMatch(noStack)
    } finally {
      busy.close()
    }
  }, 120_000)
})
