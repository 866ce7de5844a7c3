import { eventually } from '@x/testkit/vitest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { login, sendJson } from './harness/http.js'
import { type Playground, startPlayground } from './harness/playground.js'
import { openEvents, type SseStream } from './harness/sse.js'

const loginAttemptsPerAccount = 5
const eventStreamsPerClient = 3

let playground: Playground

beforeAll(async () => {
  playground = await startPlayground({
    RATE_LIMIT_IP_PER_MINUTE: '100000',
    LOGIN_ATTEMPTS_PER_IP: '100000',
    LOGIN_ATTEMPTS_PER_ACCOUNT: String(loginAttemptsPerAccount),
    EVENT_STREAMS_PER_CLIENT: String(eventStreamsPerClient),
  })
}, 180_000)

afterAll(async () => {
  await playground?.stop()
}, 60_000)

const credentials = (email: string, password: string) => ({ email, password })

describe('sign-in is not a password oracle', () => {
  it('an account has its own budget of attempts, whatever the address: then even the right password waits', async () => {
    const { a, b } = playground
    for (let i = 0; i < loginAttemptsPerAccount; i++) {
      // Spread over both instances (and, in real life, over many addresses): one budget in Redis.
      const app = i % 2 === 0 ? a : b
      const guess = await sendJson(app, 'POST', '/login', credentials('alan@example.com', `guess-${i}`))
      expect(guess.status).toBe(401)
    }
    const right = await sendJson(a, 'POST', '/login', credentials('alan@example.com', 'playground'))
    expect(right.status).toBe(429)
    expect(right.headers.get('retry-after')).toMatch(/^[1-9]\d*$/)
    expect(await right.json()).toMatchObject({ status: 429, limit: 'login-account' })
    // Another account is not affected.
    expect((await sendJson(b, 'POST', '/login', credentials('ken@example.com', 'playground'))).status).toBe(
      200,
    )
  })

  it('while Redis is away, a right and a wrong password get the same 503: nothing is checked uncounted', async () => {
    const { a, redis } = playground
    await redis.kill()
    try {
      await eventually(
        async () =>
          ((await (await a.fetch('/health')).json()) as { redis: { ok: boolean } }).redis.ok === false,
        15_000,
        100,
      )
      const wrong = await sendJson(a, 'POST', '/login', credentials('grace@example.com', 'wrong'))
      const right = await sendJson(a, 'POST', '/login', credentials('grace@example.com', 'playground'))
      const unknown = await sendJson(a, 'POST', '/login', credentials('nobody@example.com', 'playground'))
      expect([wrong.status, right.status, unknown.status]).toEqual([503, 503, 503])
      const bodies = await Promise.all([wrong.json(), right.json(), unknown.json()])
      expect(bodies[1]).toEqual(bodies[0])
      expect(bodies[2]).toEqual(bodies[0])
    } finally {
      await redis.restart()
    }
    await eventually(
      async () => ((await (await a.fetch('/health')).json()) as { redis: { ok: boolean } }).redis.ok,
      30_000,
      100,
    )
  })
})

describe('reads of users, and jobs, need a session; every route is limited', () => {
  it('anonymous callers get 401 for profiles and jobs', async () => {
    const { a } = playground
    const ids = Array.from({ length: 100 }, (_, i) => i + 1).join(',')
    for (const [method, path] of [
      ['GET', `/users?ids=${ids}`],
      ['GET', '/users/1'],
      ['GET', '/jobs/reindex'],
      ['POST', '/jobs/reindex/run?workMs=0'],
    ] as const) {
      const response = await a.fetch(path, { method })
      expect(response.status, `${method} ${path}`).toBe(401)
      expect(await response.text()).not.toContain('@example.com')
    }
  })

  it('probes and the budget read count against the address too', async () => {
    const { b } = playground
    for (const path of ['/health', '/ratelimit', '/messages', '/']) {
      const response = await b.fetch(path)
      expect(response.headers.get('ratelimit-policy'), path).toContain('"ip"')
    }
  })

  it('error bodies are short problems: no stack trace, and every one carries X-Instance', async () => {
    const { a } = playground
    const responses = await Promise.all([
      a.fetch('/no-such-route'),
      a.fetch('/users/%E0%A4%A'),
      a.fetch('/users/abc'),
      a.fetch('/me'),
      a.fetch('/me', { headers: { cookie: 'sid=garbage' } }),
      sendJson(a, 'POST', '/login', { email: 1 }),
      a.fetch('/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' }),
      a.fetch('/jobs/NOT_A_JOB!/run', { method: 'POST' }),
    ])
    for (const response of responses) {
      expect(response.status).toBeGreaterThanOrEqual(400)
      expect(response.headers.get('x-instance')).toBe('A')
      const body = await response.text()
      expect(body).not.toMatch(/\bat .+:\d+:\d+|node_modules|\.ts:\d|\.js:\d/)
      expect(JSON.parse(body)).toMatchObject({ status: response.status })
    }
  })
})

describe('CSRF: a state-changing request from another page is refused', () => {
  it('refuses a same-site or cross-site browser request, and one from a foreign Origin; allows same-origin', async () => {
    const { a } = playground
    const cookie = await login(a, 'grace@example.com')
    const other = await login(a, 'grace@example.com')
    const forged: Array<Record<string, string>> = [
      { 'sec-fetch-site': 'same-site' },
      { 'sec-fetch-site': 'cross-site' },
      { origin: 'http://127.0.0.1:1' },
      { origin: 'null' },
    ]
    for (const headers of forged) {
      const response = await a.fetch('/logout-all', { method: 'POST', headers: { cookie, ...headers } })
      expect(response.status, JSON.stringify(headers)).toBe(403)
    }
    expect((await a.fetch('/me', { headers: { cookie: other } })).status).toBe(200)
    const own = await a.fetch('/logout-all', {
      method: 'POST',
      headers: { cookie, 'sec-fetch-site': 'same-origin', origin: new URL(a.url).origin },
    })
    expect(await own.json()).toEqual({ ended: 1 })
    expect((await a.fetch('/me', { headers: { cookie: other } })).status).toBe(401)
  })
})

describe('/events is bounded', () => {
  it('caps the streams one client may hold open, and frees a slot when one closes', async () => {
    const { a } = playground
    const streams: SseStream[] = []
    try {
      for (let i = 0; i < eventStreamsPerClient; i++) streams.push(await openEvents(a))
      const refused = await a.fetch('/events')
      expect(refused.status).toBe(429)
      streams.shift()!.close()
      await eventually(
        async () => {
          const response = await a.fetch('/events')
          const ok = response.status === 200
          await response.body?.cancel()
          return ok
        },
        15_000,
        100,
      )
    } finally {
      for (const stream of streams) stream.close()
    }
  })

  it('a hostile PUBLISH (deep nesting, huge, foreign shape) ends no stream: later messages still arrive', async () => {
    const { a, b, redis } = playground
    // The slots of the previous test are released when its sockets close.
    const opened: SseStream[] = []
    await eventually(
      async () => {
        for (const app of [a, b].slice(opened.length)) {
          const stream = await openEvents(app).catch(() => null)
          if (!stream) return false
          opened.push(stream)
        }
        return true
      },
      15_000,
      200,
    )
    const [onA, onB] = opened as [SseStream, SseStream]
    try {
      const raw = redis.client()
      const deep = `{"type":"job","jobId":"x","fence":1,"instance":"A","status":"started","x":${'['.repeat(200_000)}${']'.repeat(200_000)}}`
      await raw.publish('playground:events', deep)
      await raw.publish(
        'playground:events',
        JSON.stringify({ type: 'message', message: { body: 'x'.repeat(1e6) } }),
      )
      await raw.publish(
        'playground:events',
        JSON.stringify({ type: 'rate-limited', key: 'ip', instance: { a: 1 } }),
      )
      const posted = await sendJson(a, 'POST', '/messages', { body: 'still here' })
      const { message } = (await posted.json()) as { message: { id: number } }
      for (const stream of [onA, onB]) {
        await stream.waitFor((event) => event.event === 'message' && JSON.parse(event.data).id === message.id)
        expect(stream.events.filter((event) => event.event === 'job')).toEqual([])
      }
    } finally {
      onA.close()
      onB.close()
    }
  })
})

describe('profile changes', () => {
  it('an e-mail change is validated as a user expects and stored as sign-in reads it', async () => {
    const { a } = playground
    const cookie = await login(a, 'edsger@example.com')
    for (const email of [
      'x@y',
      'no-at-sign.example.com',
      'two@@example.com',
      'space @example.com',
      'a@b.c',
    ]) {
      const response = await sendJson(a, 'PUT', '/users/4', { email }, { cookie })
      expect(response.status, email).toBe(400)
    }
    // Still signs in with the old address: nothing was stored.
    await login(a, 'edsger@example.com')
    const changed = await sendJson(a, 'PUT', '/users/4', { email: 'E.W.Dijkstra@Example.NL' }, { cookie })
    expect(changed.status).toBe(200)
    expect(await changed.json()).toMatchObject({ email: 'e.w.dijkstra@example.nl' })
    await login(a, 'E.W.Dijkstra@example.nl')
  })
})

describe('jobs', () => {
  it('waitedMs is the wait for the lock, not the work', async () => {
    const { a } = playground
    const cookie = await login(a, 'barbara@example.com')
    const workMs = 1500
    const started = performance.now()
    const response = await a.fetch(`/jobs/nightly-report/run?workMs=${workMs}`, {
      method: 'POST',
      headers: { cookie },
    })
    const elapsed = performance.now() - started
    expect(response.status).toBe(200)
    const { waitedMs } = (await response.json()) as { waitedMs: number }
    // The whole request took the wait, the work and the rest: the wait cannot include the work.
    expect(waitedMs).toBeGreaterThanOrEqual(0)
    expect(waitedMs + workMs).toBeLessThanOrEqual(elapsed + 1)
  })
})
