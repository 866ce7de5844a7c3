import { eventually } from '@x/testkit/vitest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { login, sendJson } from './harness/http.js'
import { type Playground, startPlayground } from './harness/playground.js'
import { openEvents } from './harness/sse.js'

const userLimitPerMinute = 40

let playground: Playground
/** Profiles are for signed-in users: every read below goes through this session (Alan's own budget aside). */
let reader: { headers: { cookie: string } }
/** Jobs need a session too; a user of their own, so that polling the job state spends no reader budget. */
let worker: { headers: { cookie: string } }

beforeAll(async () => {
  playground = await startPlayground({
    RATE_LIMIT_USER_PER_MINUTE: String(userLimitPerMinute),
    RATE_LIMIT_IP_PER_MINUTE: '100000',
    LOGIN_ATTEMPTS_PER_IP: '100000',
  })
  reader = { headers: { cookie: await login(playground.a, 'margaret@example.com') } }
  worker = { headers: { cookie: await login(playground.b, 'donald@example.com') } }
}, 180_000)

afterAll(async () => {
  await playground?.stop()
}, 60_000)

interface UserBody {
  id: number
  name: string
  version: number
}

describe('two instances on one Redis and one database', () => {
  it('are separate processes that share Redis and the database', async () => {
    const { a, b } = playground
    expect(a.pid).not.toBe(b.pid)
    const [healthA, healthB] = await Promise.all([a.fetch('/health'), b.fetch('/health')])
    expect(healthA.headers.get('x-instance')).toBe('A')
    expect(healthB.headers.get('x-instance')).toBe('B')
    for (const body of [await healthA.json(), await healthB.json()]) {
      expect(body).toMatchObject({
        status: 'ok',
        redis: { ok: true },
        database: { ok: true, kind: 'postgres' },
      })
    }
  })

  it('a user updated through A is fresh on B, although B had it in its L1', async () => {
    const { a, b } = playground
    // Warm both caches: the second read on B comes from its in-process L1.
    for (const app of [a, b, b]) expect((await app.fetch('/users/4', reader)).status).toBe(200)
    const before = (await (await b.fetch('/users/4', reader)).json()) as UserBody

    const cookie = await login(a, 'edsger@example.com')
    const updated = await sendJson(a, 'PUT', '/users/4', { name: 'E. W. Dijkstra' }, { cookie })
    expect(updated.status).toBe(200)
    const after = (await updated.json()) as UserBody
    expect(after.version).toBe(before.version + 1)

    // The invalidation bus is pub/sub: B drops the key as soon as the message lands.
    await eventually(
      async () => {
        const seen = (await (await b.fetch('/users/4', reader)).json()) as UserBody
        return seen.name === 'E. W. Dijkstra' && seen.version === after.version
      },
      5000,
      50,
    )
    const batch = (await (await b.fetch('/users?ids=4', reader)).json()) as { users: UserBody[] }
    expect(batch.users[0]).toMatchObject({ name: 'E. W. Dijkstra', version: after.version })
    // And it stays fresh: no late write-back of the old value.
    const again = (await (await a.fetch('/users/4', reader)).json()) as UserBody
    expect(again.version).toBe(after.version)
  })

  it('serves users from the cache, and DELETE /users/cache (one tag) refreshes them on both instances', async () => {
    const { a, b, db } = playground
    for (const app of [a, b]) expect((await app.fetch('/users/6', reader)).status).toBe(200)
    // Changed behind the cache's back: both instances keep serving what they cached.
    await db.pool.query("UPDATE users SET name = 'Kenneth Thompson', version = version + 1 WHERE id = 6")
    for (const app of [a, b]) {
      expect(((await (await app.fetch('/users/6', reader)).json()) as UserBody).name).toBe('Ken Thompson')
    }
    const cookie = await login(b, 'ken@example.com')
    expect((await a.fetch('/users/cache', { method: 'DELETE', headers: { cookie } })).status).toBe(204)
    await eventually(
      async () => {
        const names = await Promise.all(
          [a, b].map(async (app) => ((await (await app.fetch('/users/6', reader)).json()) as UserBody).name),
        )
        return names.every((name) => name === 'Kenneth Thompson')
      },
      5000,
      50,
    )
  })

  it('GET /users?ids= reads a batch through getOrSetMany and reports the missing ids', async () => {
    const response = await playground.b.fetch('/users?ids=1,2,99,2', reader)
    expect(response.status).toBe(200)
    const body = (await response.json()) as { users: UserBody[]; missing: number[] }
    expect(body.users.map((user) => user.id)).toEqual([1, 2])
    expect(body.missing).toEqual([99])
    expect((await playground.a.fetch('/users?ids=1,x', reader)).status).toBe(400)
    expect((await playground.a.fetch('/users/99', reader)).status).toBe(404)
  })

  it('a session created on A works on B', async () => {
    const { a, b } = playground
    const cookie = await login(a, 'ada@example.com')
    const me = await b.fetch('/me', { headers: { cookie } })
    expect(me.status).toBe(200)
    expect(await me.json()).toMatchObject({ user: { id: 1, email: 'ada@example.com' } })
  })

  it('the device list shows every session of the user and marks the current one', async () => {
    const { a, b } = playground
    const laptop = await login(a, 'barbara@example.com')
    await sendJson(
      b,
      'POST',
      '/login',
      { email: 'barbara@example.com', password: 'playground' },
      {
        'user-agent': 'phone-browser',
      },
    )
    const response = await b.fetch('/sessions', { headers: { cookie: laptop } })
    const { sessions } = (await response.json()) as {
      sessions: Array<{ current: boolean; device: { userAgent: string } }>
    }
    expect(sessions).toHaveLength(2)
    expect(sessions.filter((session) => session.current)).toHaveLength(1)
    expect(sessions.map((session) => session.device.userAgent)).toContain('phone-browser')
  })

  it('logout-all on A ends the session used on B, and keeps the current one', async () => {
    const { a, b } = playground
    const onA = await login(a, 'grace@example.com')
    const onB = await login(b, 'grace@example.com')
    expect((await b.fetch('/me', { headers: { cookie: onB } })).status).toBe(200)

    const response = await a.fetch('/logout-all', { method: 'POST', headers: { cookie: onA } })
    expect(await response.json()).toEqual({ ended: 1 })
    expect((await b.fetch('/me', { headers: { cookie: onB } })).status).toBe(401)
    expect((await b.fetch('/me', { headers: { cookie: onA } })).status).toBe(200)
  })

  it('logout on B ends the session on A', async () => {
    const { a, b } = playground
    const cookie = await login(a, 'ken@example.com')
    const response = await b.fetch('/logout', { method: 'POST', headers: { cookie } })
    expect(await response.json()).toEqual({ loggedOut: true })
    expect(response.headers.get('set-cookie')).toMatch(/sid=;/)
    expect((await a.fetch('/me', { headers: { cookie } })).status).toBe(401)
  })

  it('rotate on A: the new cookie works on B; the old one works read-only for a short grace, then dies, and no 401 clears a cookie', async () => {
    const { a, b } = playground
    const old = await login(a, 'margaret@example.com')
    const rotated = await a.fetch('/rotate', { method: 'POST', headers: { cookie: old } })
    expect(rotated.status).toBe(200)
    const setCookie = rotated.headers.get('set-cookie')!
    expect(setCookie).toMatch(/HttpOnly/i)
    expect(setCookie).toMatch(/SameSite=Lax/i)
    const fresh = setCookie.split(';')[0]!
    expect(fresh).not.toBe(old)
    expect((await b.fetch('/me', { headers: { cookie: fresh } })).status).toBe(200)
    // A request that was already in flight with the old cookie: still signed in, and it sets no
    // cookie, so it cannot undo the rotation in the browser.
    const overlapping = await b.fetch('/me', { headers: { cookie: old } })
    expect(overlapping.status).toBe(200)
    expect(overlapping.headers.get('set-cookie')).toBeNull()
    // After the grace (10 s) the old token is dead; its 401 still leaves the browser's cookie alone.
    // (The wait may take up to 40 s on a loaded machine: hence this test's own timeout.)
    let dead: Response | undefined
    await eventually(
      async () => {
        dead = await b.fetch('/me', { headers: { cookie: old } })
        return dead.status === 401
      },
      40_000,
      500,
    )
    expect(dead!.headers.get('set-cookie')).toBeNull()
    expect((await a.fetch('/me', { headers: { cookie: fresh } })).status).toBe(200)
  }, 90_000)

  it('PUT /users/:id needs the owner’s session: 401 without one, 403 for someone else', async () => {
    const { a } = playground
    expect((await sendJson(a, 'PUT', '/users/1', { name: 'x' })).status).toBe(401)
    const cookie = await login(a, 'donald@example.com')
    expect((await sendJson(a, 'PUT', '/users/1', { name: 'x' }, { cookie })).status).toBe(403)
  })

  it('the per-user rate limit is shared: A and B together hit it, with the standard headers', async () => {
    const { a, b } = playground
    const cookie = await login(a, 'alan@example.com')
    const statuses: Array<{ app: string; status: number }> = []
    let refused: Response | undefined
    const started = Date.now()
    for (let i = 0; i < 2 * userLimitPerMinute; i++) {
      const app = i % 2 === 0 ? a : b
      const response = await app.fetch('/me', { headers: { cookie } })
      statuses.push({ app: app.name, status: response.status })
      if (response.status === 429) refused ??= response
      else
        expect(response.headers.get('ratelimit-policy')).toContain(
          `"user-minute";q=${userLimitPerMinute};w=60`,
        )
    }
    const admitted = statuses.filter((entry) => entry.status === 200)
    // GCRA refills at limit/minute: a slow machine may earn one more slot per 6 s of the loop.
    const earned = Math.floor((Date.now() - started) / (60_000 / userLimitPerMinute))
    expect(admitted.length).toBeGreaterThanOrEqual(userLimitPerMinute)
    expect(admitted.length).toBeLessThanOrEqual(userLimitPerMinute + earned)
    // Neither instance alone reached the limit: the budget is one, in Redis.
    expect(admitted.filter((entry) => entry.app === 'A').length).toBeLessThan(userLimitPerMinute)
    expect(admitted.filter((entry) => entry.app === 'B').length).toBeLessThan(userLimitPerMinute)
    expect(new Set(statuses.filter((entry) => entry.status === 429).map((entry) => entry.app))).toEqual(
      new Set(['A', 'B']),
    )
    expect(refused!.headers.get('retry-after')).toMatch(/^\d+$/)
    expect(refused!.headers.get('ratelimit')).toMatch(/"user-minute";r=0;t=\d+/)
    expect(await refused!.json()).toMatchObject({ status: 429, limit: 'user' })
  })

  it('two concurrent runs of a job on A and B: one at a time, fencing tokens strictly increase in the database', async () => {
    const { a, b, db } = playground
    const [first, second] = await Promise.all([
      a.fetch('/jobs/nightly-report/run?workMs=400', { method: 'POST', ...worker }),
      b.fetch('/jobs/nightly-report/run?workMs=400', { method: 'POST', ...worker }),
    ])
    expect([first.status, second.status]).toEqual([200, 200])
    const fences = [
      ((await first.json()) as { fence: number }).fence,
      ((await second.json()) as { fence: number }).fence,
    ]
    expect(fences[0]).not.toBe(fences[1])

    const { rows } = await db.pool.query<{
      fence: string
      started_at: Date
      finished_at: Date
      instance: string
    }>(
      "SELECT fence, started_at, finished_at, instance FROM job_runs WHERE job_id = 'nightly-report' ORDER BY started_at",
    )
    expect(rows).toHaveLength(2)
    expect(new Set(rows.map((row) => row.instance))).toEqual(new Set(['A', 'B']))
    // In the order they ran: strictly increasing tokens, and no overlap (one waited for the other).
    expect(Number(rows[1]!.fence)).toBeGreaterThan(Number(rows[0]!.fence))
    expect(rows[1]!.started_at.getTime()).toBeGreaterThanOrEqual(rows[0]!.finished_at.getTime())
    const { rows: job } = await db.pool.query<{ last_fence: string }>(
      "SELECT last_fence FROM jobs WHERE id = 'nightly-report'",
    )
    expect(Number(job[0]!.last_fence)).toBe(Math.max(...fences))
  })

  it('a run that may not wait is refused while the job runs on the other instance', async () => {
    const { a, b } = playground
    const long = a.fetch('/jobs/send-digest/run?workMs=3000', { method: 'POST', ...worker })
    const jobState = async () =>
      (await (await b.fetch('/jobs/send-digest', worker)).json()) as { lock: { locked: boolean } }
    await eventually(async () => (await jobState()).lock.locked, 15_000, 50)
    const refused = await b.fetch('/jobs/send-digest/run?waitMs=0', { method: 'POST', ...worker })
    expect(refused.status).toBe(409)
    expect((await long).status).toBe(200)
  })

  it('the database rejects a stale fencing token', async () => {
    const { a, db } = playground
    const run = await a.fetch('/jobs/reindex/run?workMs=0', { method: 'POST', ...worker })
    const { fence } = (await run.json()) as { fence: number }
    // What a paused former holder would try: the claim with its older token changes nothing.
    const stale = await db.pool.query(
      'UPDATE jobs SET last_fence = $2 WHERE id = $1 AND last_fence < $2 RETURNING id',
      ['reindex', fence - 1],
    )
    expect(stale.rowCount).toBe(0)
    const same = await db.pool.query('UPDATE jobs SET last_fence = $2 WHERE id = $1 AND last_fence < $2', [
      'reindex',
      fence,
    ])
    expect(same.rowCount).toBe(0)
  })

  it('a message posted to A arrives on B’s event stream (and on A’s)', async () => {
    const { a, b } = playground
    const [onB, onA] = await Promise.all([openEvents(b), openEvents(a)])
    try {
      // Foreign messages on the channel (not JSON, or JSON of another shape) are skipped, not fatal.
      const raw = playground.redis.client()
      await raw.publish('playground:events', 'not json')
      await raw.publish('playground:events', JSON.stringify({ type: 'message' }))
      const posted = await sendJson(a, 'POST', '/messages', { body: 'hello from A' })
      expect(posted.status).toBe(201)
      const { message } = (await posted.json()) as { message: { id: number } }
      for (const stream of [onB, onA]) {
        const event = await stream.waitFor(
          (e) => e.event === 'message' && JSON.parse(e.data).id === message.id,
        )
        expect(JSON.parse(event.data)).toMatchObject({ body: 'hello from A', instance: 'A' })
        expect(event.id).toBe(String(message.id))
      }
      // Stored in the database too, so a client that missed it can reload.
      const stored = (await (await b.fetch('/messages')).json()) as { messages: Array<{ id: number }> }
      expect(stored.messages.map((m) => m.id)).toContain(message.id)
    } finally {
      onB.close()
      onA.close()
    }
  })

  it('serves the showcase page, its script, uPlot from node_modules, and the counters it charts', async () => {
    const { b } = playground
    const page = await b.fetch('/')
    expect(page.headers.get('content-type')).toContain('text/html')
    const html = await page.text()
    expect(html).toContain('data-instance="B"')
    expect(html).toContain('<script src="/assets/showcase.js" type="module">')
    const script = await (await b.fetch('/assets/showcase.js')).text()
    expect(script).toContain("new EventSource('/events')")
    expect(script).toContain("api('/ratelimit')")
    const uplot = await b.fetch('/assets/uplot.js')
    expect(uplot.headers.get('content-type')).toContain('javascript')
    expect(await uplot.text()).toContain('uPlot')
    expect((await b.fetch('/assets/..%2Fpackage.json')).status).toBe(404)
    const stats = (await (await b.fetch('/stats')).json()) as { instance: string; cache: { hits: number } }
    expect(stats.instance).toBe('B')
    expect(typeof stats.cache.hits).toBe('number')
    const state = (await (await b.fetch('/ratelimit')).json()) as {
      ip: { policies: Array<{ name: string }> }
    }
    expect(state.ip.policies[0]!.name).toBe('ip')
  })
})
