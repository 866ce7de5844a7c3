import { eventually } from '@x/testkit/vitest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { login, sendJson } from './harness/http.js'
import { type Playground, startPlayground } from './harness/playground.js'
import { openEvents } from './harness/sse.js'

let playground: Playground

beforeAll(async () => {
  playground = await startPlayground({ RATE_LIMIT_IP_PER_MINUTE: '100000', LOGIN_ATTEMPTS_PER_IP: '100000' })
}, 180_000)

afterAll(async () => {
  await playground?.stop()
}, 60_000)

/**
 * Retries a request while it answers 503 (Redis unavailable or slower than the command timeout, the
 * documented "retry shortly"), as a client honouring Retry-After would; any other status is final.
 */
async function retryOn503(request: () => Promise<Response>, timeoutMs = 20_000): Promise<Response> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const response = await request()
    if (response.status !== 503 || Date.now() > deadline) return response
    await response.body?.cancel()
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

async function health(app: Playground['a']) {
  return (await (await app.fetch('/health')).json()) as { status: string; redis: { ok: boolean } }
}

describe('bad input is the client’s error, never a 500', () => {
  it('a bad cookie is 401, not 500: garbage, oversized, tampered signature, unsigned token', async () => {
    const { a, b } = playground
    const real = await login(a, 'ada@example.com')
    const [name, value] = real.split('=') as [string, string]
    const tampered = `${name}=${value.slice(0, -2)}${value.endsWith('AA') ? 'BB' : 'AA'}`
    const unsigned = `${name}=${value.slice(0, value.lastIndexOf('.'))}`
    const cookies = [
      'sid=garbage',
      `sid=${'x'.repeat(4000)}`,
      'sid=%00%ff%fe',
      'sid=a.b.c.d.e',
      tampered,
      unsigned,
    ]
    for (const cookie of cookies) {
      for (const [method, path] of [
        ['GET', '/me'],
        ['GET', '/sessions'],
        ['POST', '/logout-all'],
        ['POST', '/rotate'],
      ] as const) {
        const response = await b.fetch(path, { method, headers: { cookie } })
        expect(response.status, `${method} ${path} with ${cookie.slice(0, 40)}`).toBe(401)
        expect(response.headers.get('content-type')).toContain('json')
        // No clearing Set-Cookie: the browser may hold a newer cookie (a rotation) by now.
        expect(response.headers.get('set-cookie')).toBeNull()
      }
    }
    // The genuine cookie still works: nothing above hurt it.
    expect((await b.fetch('/me', { headers: { cookie: real } })).status).toBe(200)
  })

  it('a malformed JSON body is 400 with a JSON problem, on every endpoint that takes one', async () => {
    const { a } = playground
    const cookie = await login(a, 'alan@example.com')
    const bodies = ['{bad', '', 'null', '[1,2]', '"text"', '{"email": }']
    for (const body of bodies) {
      for (const [method, path] of [
        ['POST', '/login'],
        ['POST', '/messages'],
        ['PUT', '/users/3'],
      ] as const) {
        const response = await a.fetch(path, {
          method,
          headers: { 'content-type': 'application/json', cookie },
          body,
        })
        expect(response.status, `${method} ${path} with ${JSON.stringify(body)}`).toBe(400)
        expect(await response.json()).toMatchObject({ status: 400, title: 'Bad Request' })
      }
    }
    const notJson = await a.fetch('/login', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'x',
    })
    expect(notJson.status).toBe(400)
    const wrongTypes = await sendJson(a, 'POST', '/login', { email: 42, password: ['x'] })
    expect(wrongTypes.status).toBe(400)
    expect((await a.fetch('/users/abc', { headers: { cookie } })).status).toBe(400)
    expect((await a.fetch('/jobs/NOT_A_JOB!/run', { method: 'POST' })).status).toBe(400)
  })

  it('a wrong password and an unknown email get the same 401', async () => {
    const { a } = playground
    const wrong = await sendJson(a, 'POST', '/login', { email: 'ada@example.com', password: 'nope' })
    const unknown = await sendJson(a, 'POST', '/login', { email: 'nobody@example.com', password: 'nope' })
    expect(wrong.status).toBe(401)
    expect(unknown.status).toBe(401)
    expect(await wrong.json()).toEqual(await unknown.json())
  })
})

describe('Redis goes away and comes back', () => {
  it('while Redis is down: sessions fail closed with 503 (profiles and jobs, which need one, too), /health says so', async () => {
    const { a, b, redis } = playground
    const cookie = await login(a, 'grace@example.com')
    expect((await b.fetch('/users/2', { headers: { cookie } })).status).toBe(200)
    await redis.kill()
    try {
      await eventually(
        async () => (await health(a)).redis.ok === false && (await health(b)).redis.ok === false,
        15_000,
        100,
      )
      const degraded = await b.fetch('/health')
      expect(degraded.status).toBe(200)
      expect(await degraded.json()).toMatchObject({
        status: 'degraded',
        redis: { ok: false },
        database: { ok: true },
      })
      // The IP limiter fails open, public reads are served from the database.
      const messages = await a.fetch('/messages')
      expect(messages.status).toBe(200)
      // Profiles need a session, which cannot be checked: 503 (retry), not 401 nor 500.
      for (const path of ['/users/2', '/users?ids=1,2']) {
        expect((await a.fetch(path, { headers: { cookie } })).status).toBe(503)
      }
      // A session cannot be checked: 503 (retry), not 401 (which would log the user out) nor 500.
      const me = await b.fetch('/me', { headers: { cookie } })
      expect(me.status).toBe(503)
      expect(me.headers.get('retry-after')).toBe('1')
      expect(
        (await a.fetch('/jobs/reindex/run?waitMs=0', { method: 'POST', headers: { cookie } })).status,
      ).toBe(503)
    } finally {
      await redis.restart()
    }
    await eventually(async () => (await health(a)).redis.ok && (await health(b)).redis.ok, 30_000, 100)
  })

  it('Redis restarted during the run: both instances recover without a restart', async () => {
    const { a, b, redis, db } = playground
    const events = await openEvents(b)
    try {
      const earlier = await retryOn503(() =>
        sendJson(a, 'POST', '/login', { email: 'barbara@example.com', password: 'playground' }),
      )
      const cookieBefore = earlier.headers.get('set-cookie')!.split(';')[0]!
      const before = await retryOn503(() =>
        a.fetch('/jobs/reindex/run?workMs=0', { method: 'POST', headers: { cookie: cookieBefore } }),
      )
      expect(before.status, await before.clone().text()).toBe(200)
      const fenceBefore = ((await before.json()) as { fence: number }).fence
      // Warm B's L1 with user 5 before the restart.
      expect((await b.fetch('/users/5', { headers: { cookie: cookieBefore } })).status).toBe(200)

      await redis.restart()
      await eventually(async () => (await health(a)).redis.ok && (await health(b)).redis.ok, 30_000, 100)

      // Pub/sub resubscribed and told the stream that messages may have been missed.
      await events.waitFor((event) => event.event === 'resync', 20_000)

      // Sessions: the restarted Redis is empty, so log in again; the new session works across instances.
      const cookie = await login(a, 'barbara@example.com')
      expect((await b.fetch('/me', { headers: { cookie } })).status).toBe(200)

      // Cache coherence after the restart: an update through A is fresh on B.
      const updated = await sendJson(a, 'PUT', '/users/5', { name: 'B. Liskov' }, { cookie })
      expect(updated.status).toBe(200)
      await eventually(
        async () => {
          const seen = (await (await b.fetch('/users/5', { headers: { cookie } })).json()) as { name: string }
          return seen.name === 'B. Liskov'
        },
        10_000,
        100,
      )

      // Pub/sub: a message posted to A reaches the stream B opened before the restart.
      const posted = await sendJson(a, 'POST', '/messages', { body: 'after the restart' })
      const { message } = (await posted.json()) as { message: { id: number } }
      await events.waitFor(
        (event) => event.event === 'message' && JSON.parse(event.data).id === message.id,
        20_000,
      )

      // Locks: Redis lost the fencing counter; the next fence (floored by the server clock) is still
      // above the database's last token, so the run is accepted and tokens keep increasing.
      const after = await retryOn503(() =>
        b.fetch('/jobs/reindex/run?workMs=0', { method: 'POST', headers: { cookie } }),
      )
      expect(after.status, await after.clone().text()).toBe(200)
      const fenceAfter = ((await after.json()) as { fence: number }).fence
      expect(fenceAfter).toBeGreaterThan(fenceBefore)
      const { rows } = await db.pool.query<{ fence: string }>(
        "SELECT fence FROM job_runs WHERE job_id = 'reindex' ORDER BY id",
      )
      const fences = rows.map((row) => Number(row.fence))
      expect(fences).toEqual([...fences].sort((x, y) => x - y))
      expect(new Set(fences).size).toBe(fences.length)
    } finally {
      events.close()
    }
  })
})
