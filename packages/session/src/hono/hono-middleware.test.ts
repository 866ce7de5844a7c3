import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { createRedis } from '@x/redis-core'
import { countCommands, targets, useRedis } from '@x/testkit/vitest'
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSessionStore } from '../session-store.js'
import { type SessionEnv, sessionMiddleware } from './index.js'

type Data = { name: string; role: 'user' | 'admin' }
const KEY = 'a signing key that is at least thirty-two bytes long'

// A Cluster client refreshes its topology in the background (CLUSTER SLOTS, INFO): not a session call.
const CONNECTION_COMMANDS = new Set(['cluster', 'info', 'ping', 'hello', 'client', 'select'])
const sessionCommands = (names: string[]) => names.filter((name) => !CONNECTION_COMMANDS.has(name))
describe.each(targets())('Hono middleware over real HTTP on $name', (target) => {
  const redis = useRedis(target, createRedis)
  let base = ''
  let close: () => Promise<void> = async () => {}

  beforeAll(async () => {
    const store = createSessionStore<Data>({ redis, prefix: target.prefix })
    const app = new Hono<SessionEnv<Data>>()
    app.use(sessionMiddleware({ store, cookie: { keys: [KEY] } }))
    app.post('/login/:user', async (c) => {
      const session = await c.var.sessions.login(c.req.param('user'), {
        name: c.req.param('user'),
        role: 'user',
      })
      return c.json({ id: session.id })
    })
    app.get('/me', (c) => {
      const session = c.var.session
      if (!session) return c.json({ error: 'unauthorized' }, 401)
      // Typed: session.data.role is 'user' | 'admin'.
      const role: 'user' | 'admin' = session.data.role
      return c.json({ user: session.userId, role, rotated: session.rotated, ua: c.var.sessions.current?.id })
    })
    app.post('/promote', async (c) => {
      await c.var.sessions.update({ role: 'admin' })
      const rotated = await c.var.sessions.rotate()
      return rotated ? c.json({ role: rotated.data.role }) : c.json({ error: 'unauthorized' }, 401)
    })
    app.post('/logout', async (c) => {
      await c.var.sessions.logout()
      return c.body(null, 204)
    })
    app.post('/logout-others', async (c) => c.json({ destroyed: await c.var.sessions.logoutOthers() }))
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' })
    await new Promise<void>((resolve) => server.once('listening', () => resolve()))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    close = () => new Promise<void>((resolve) => server.close(() => resolve()))
  })

  afterAll(async () => {
    await close()
  })

  const post = (path: string, cookie?: string) =>
    fetch(`${base}${path}`, { method: 'POST', headers: cookie ? { cookie } : {} })
  const me = (cookie?: string) => fetch(`${base}/me`, { headers: cookie ? { cookie } : {} })
  const cookieOf = (response: Response) => {
    const [header] = response.headers.getSetCookie()
    expect(header).toBeDefined()
    return { header: header!, pair: header!.split(';')[0]! }
  }

  it('answers a request without a cookie with no session and no session lookup in Redis', async () => {
    const { names } = await countCommands(redis, async () => {
      expect((await me()).status).toBe(401)
    })
    expect(sessionCommands(names)).toEqual([])
  })

  it('logs in with a secure, signed cookie; reads, promotes with rotation, logs out', async () => {
    const login = await post('/login/alice')
    expect(login.status).toBe(200)
    const { header, pair } = cookieOf(login)
    expect(header).toMatch(/; HttpOnly; Secure; SameSite=Lax$/)
    expect(header).toMatch(/Max-Age=2592000/)
    expect(await (await me(pair)).json()).toMatchObject({ user: 'alice', role: 'user', rotated: false })

    const promote = await post('/promote', pair)
    expect(await promote.json()).toEqual({ role: 'admin' })
    const rotated = cookieOf(promote).pair
    expect(rotated).not.toBe(pair)
    expect(await (await me(rotated)).json()).toMatchObject({ role: 'admin', rotated: false })
    // A request still in flight with the old cookie keeps working during the grace.
    expect(await (await me(pair)).json()).toMatchObject({ role: 'admin', rotated: true })

    const logout = await post('/logout', rotated)
    expect(cookieOf(logout).header).toMatch(/^sid=; .*Max-Age=0/)
    expect((await me(rotated)).status).toBe(401)
    expect((await me(pair)).status).toBe(401)
  })

  it('rejects a tampered cookie and replaces the session of a second login', async () => {
    const first = cookieOf(await post('/login/bob')).pair
    const tampered = `${first.slice(0, -3)}${first.endsWith('AAA') ? 'BBB' : 'AAA'}`
    expect((await me(tampered)).status).toBe(401)
    const second = cookieOf(await post('/login/bob', first)).pair
    expect((await me(first)).status).toBe(401)
    expect((await me(second)).status).toBe(200)
  })

  it('logs out everywhere else', async () => {
    const laptop = cookieOf(await post('/login/carol')).pair
    const phone = cookieOf(await post('/login/carol')).pair
    expect(await (await post('/logout-others', phone)).json()).toEqual({ destroyed: 1 })
    expect((await me(laptop)).status).toBe(401)
    expect((await me(phone)).status).toBe(200)
    expect(await (await post('/logout-others')).json()).toEqual({ destroyed: 0 })
  })
})
