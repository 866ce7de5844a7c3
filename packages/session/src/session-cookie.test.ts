import { serve } from '@hono/node-server'
import { createRedis, InvalidArgumentError } from '@x/redis-core'
import { targets, useRedis } from '@x/testkit/vitest'
import { Hono } from 'hono'
import { beforeAll, describe, expect, it } from 'vitest'
import { createSessionCookie, type SessionCookieOptions } from './session-cookie.js'
import { createSessionStore } from './session-store.js'
import type { SessionStore } from './types.js'

const KEY_A = 'a'.repeat(32)
const KEY_B = 'b'.repeat(32)

describe('session cookie', () => {
  it('serializes with secure defaults', () => {
    const cookie = createSessionCookie()
    expect(cookie.serialize('abc.def')).toBe('sid=abc.def; Path=/; HttpOnly; Secure; SameSite=Lax')
  })

  it('adds the __Host- prefix, Max-Age and Expires', () => {
    const cookie = createSessionCookie({ name: 'session', hostPrefix: true, maxAgeMs: 3_600_000 })
    const header = cookie.serialize('v')
    expect(cookie.name).toBe('__Host-session')
    expect(header).toMatch(
      /^__Host-session=v; Path=\/; Max-Age=3600; Expires=[^;]+ GMT; HttpOnly; Secure; SameSite=Lax$/,
    )
    expect(cookie.serializeClear()).toMatch(/^__Host-session=; Path=\/; Max-Age=0; Expires=Thu, 01 Jan 1970/)
  })

  it.each([
    ['__Host- without secure', { hostPrefix: true, secure: false }],
    ['__Host- with a domain', { hostPrefix: true, domain: 'example.com' }],
    ['__Host- with a path', { hostPrefix: true, path: '/app' }],
    ['SameSite=None without secure', { sameSite: 'None' as const, secure: false }],
    ['a short key', { keys: ['short'] }],
    ['an empty key list', { keys: [] }],
    ['a bad name', { name: 'a b' }],
    ['a negative maxAgeMs', { maxAgeMs: -1 }],
    ['the old name maxAge', { maxAge: 1000 }],
  ])('rejects %s', (_, options) => {
    expect(() => createSessionCookie(options as SessionCookieOptions)).toThrow(InvalidArgumentError)
  })

  it('refuses values that are not cookie-safe', () => {
    const cookie = createSessionCookie()
    expect(() => cookie.serialize('a;b')).toThrow(InvalidArgumentError)
    expect(() => cookie.serialize('')).toThrow(InvalidArgumentError)
  })

  it('parses its own cookie among others', () => {
    const cookie = createSessionCookie({ secure: false })
    expect(cookie.parse('theme=dark; sid=tok.en; other=1')).toBe('tok.en')
    expect(cookie.parse('theme=dark')).toBeNull()
    expect(cookie.parse(undefined)).toBeNull()
    expect(cookie.read(new Request('http://x/', { headers: { cookie: 'sid=abc' } }))).toBe('abc')
    expect(cookie.read({ headers: { cookie: 'sid=node' } })).toBe('node')
  })

  it('signs, verifies and rejects tampered values', () => {
    const cookie = createSessionCookie({ keys: [KEY_A] })
    const header = cookie.serialize('token.value')
    const raw = header.split(';')[0]!
    expect(cookie.parse(raw)).toBe('token.value')
    const [, signed] = raw.split('=') as [string, string]
    const signature = signed.slice(signed.lastIndexOf('.') + 1)
    expect(cookie.parse(`sid=token.valuf.${signature}`)).toBeNull()
    expect(cookie.parse(`sid=${signed.slice(0, -1)}${signed.endsWith('A') ? 'B' : 'A'}`)).toBeNull()
    expect(cookie.parse('sid=token.value')).toBeNull()
    expect(cookie.parse('sid=unsigned')).toBeNull()
    // The signature binds the name: the same value under another cookie name does not verify.
    const other = createSessionCookie({ name: 'other', keys: [KEY_A] })
    expect(other.parse(`other=${signed}`)).toBeNull()
  })

  it('rotates keys: the new key signs, the old one still verifies, a removed one does not', () => {
    const old = createSessionCookie({ keys: [KEY_A] })
    const rotated = createSessionCookie({ keys: [KEY_B, KEY_A] })
    const dropped = createSessionCookie({ keys: [KEY_B] })
    const oldCookie = old.serialize('v').split(';')[0]!
    const newCookie = rotated.serialize('v').split(';')[0]!
    expect(newCookie).not.toBe(oldCookie)
    expect(rotated.parse(oldCookie)).toBe('v')
    expect(rotated.parse(newCookie)).toBe('v')
    expect(dropped.parse(oldCookie)).toBeNull()
    expect(dropped.parse(newCookie)).toBe('v')
  })

  it('takes the first validly signed cookie when the name appears twice', () => {
    const cookie = createSessionCookie({ keys: [KEY_A] })
    const good = cookie.serialize('good').split(';')[0]!
    expect(cookie.parse(`sid=planted.xxxx; ${good}`)).toBe('good')
  })
})

describe.each(targets())('session cookie with Hono on $name', (target) => {
  const redis = useRedis(target, createRedis)
  let store: SessionStore<{ name: string }>
  let app: Hono
  const cookie = createSessionCookie({ keys: [KEY_A], secure: false })

  beforeAll(() => {
    store = createSessionStore({ redis, prefix: target.prefix })
    app = new Hono()
    app.post('/login/:user', async (c) => {
      const { token } = await store.create(
        c.req.param('user'),
        { name: c.req.param('user') },
        {
          device: { userAgent: c.req.header('user-agent') },
        },
      )
      c.header('Set-Cookie', cookie.serialize(token), { append: true })
      return c.text('ok')
    })
    app.get('/me', async (c) => {
      const token = cookie.read(c.req.raw)
      const session = token ? await store.get(token) : null
      if (!session) return c.text('unauthorized', 401)
      return c.json({ user: session.userId, name: session.data.name })
    })
    app.post('/logout', async (c) => {
      const token = cookie.read(c.req.raw)
      if (token) await store.destroy(token)
      c.header('Set-Cookie', cookie.serializeClear(), { append: true })
      return c.text('bye')
    })
  })

  const cookieFrom = (response: Response) => response.headers.get('set-cookie')!.split(';')[0]!

  it('logs in, reads the session, rejects a tampered cookie, logs out', async () => {
    const login = await app.request('/login/alice', { method: 'POST', headers: { 'user-agent': 'HonoTest' } })
    expect(login.status).toBe(200)
    expect(login.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Lax$/)
    const jar = cookieFrom(login)
    const me = await app.request('/me', { headers: { cookie: jar } })
    expect(await me.json()).toEqual({ user: 'alice', name: 'alice' })
    const tampered = `${jar.slice(0, 10)}${jar[10] === 'A' ? 'B' : 'A'}${jar.slice(11)}`
    expect((await app.request('/me', { headers: { cookie: tampered } })).status).toBe(401)
    const logout = await app.request('/logout', { method: 'POST', headers: { cookie: jar } })
    expect(logout.headers.get('set-cookie')).toMatch(/^sid=; .*Max-Age=0/)
    expect((await app.request('/me', { headers: { cookie: jar } })).status).toBe(401)
  })

  it('works over real HTTP with @hono/node-server', async () => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' })
    try {
      await new Promise<void>((resolve) => server.once('listening', () => resolve()))
      const address = server.address()
      const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
      const login = await fetch(`${base}/login/bob`, { method: 'POST' })
      const jar = cookieFrom(login)
      const me = await fetch(`${base}/me`, { headers: { cookie: jar } })
      expect(await me.json()).toEqual({ user: 'bob', name: 'bob' })
      expect((await fetch(`${base}/me`)).status).toBe(401)
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })
})
