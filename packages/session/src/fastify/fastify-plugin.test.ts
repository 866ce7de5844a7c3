import { createRedis } from '@x/redis-core'
import { targets, useRedis } from '@x/testkit/vitest'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSessionStore } from '../session-store.js'
import type { SessionStore } from '../types.js'
import { type FastifySessionData, sessionPlugin } from './index.js'

declare module './index.js' {
  interface FastifySessionData {
    name?: string
    role?: 'user' | 'admin'
  }
}

const KEY = 'a signing key that is at least thirty-two bytes long'

describe.each(targets())('Fastify plugin over real HTTP on $name', (target) => {
  const redis = useRedis(target, createRedis)
  let app: FastifyInstance
  let store: SessionStore<FastifySessionData>
  let base = ''

  beforeAll(async () => {
    store = createSessionStore<FastifySessionData>({ redis, prefix: target.prefix })
    app = Fastify()
    await app.register(sessionPlugin({ store, cookie: { keys: [KEY] } }))
    app.post<{ Params: { user: string } }>('/login/:user', async (request) => {
      const session = await request.sessions.login(request.params.user, {
        name: request.params.user,
        role: 'user',
      })
      return { id: session.id }
    })
    app.get('/me', async (request, reply) => {
      const session = request.session
      if (!session) return reply.code(401).send({ error: 'unauthorized' })
      const role: 'user' | 'admin' | undefined = session.data.role
      return { user: session.userId, role, rotated: session.rotated }
    })
    // Registered in a child context: the plugin's decorations reach it (not encapsulated).
    await app.register(async (child) => {
      child.post('/promote', async (request, reply) => {
        await request.sessions.update({ role: 'admin' })
        const rotated = await request.sessions.rotate()
        return rotated ? { role: rotated.data.role } : reply.code(401).send({ error: 'unauthorized' })
      })
    })
    app.post('/logout', async (request, reply) => {
      await request.sessions.logout()
      return reply.code(204).send()
    })
    app.post('/logout-others', async (request) => ({ destroyed: await request.sessions.logoutOthers() }))
    base = await app.listen({ port: 0, host: '127.0.0.1' })
  })

  afterAll(async () => {
    await app.close()
  })

  const post = (path: string, cookie?: string) =>
    fetch(`${base}${path}`, { method: 'POST', headers: cookie ? { cookie } : {} })
  const me = (cookie?: string) => fetch(`${base}/me`, { headers: cookie ? { cookie } : {} })
  const cookieOf = (response: Response) => {
    const [header] = response.headers.getSetCookie()
    expect(header).toBeDefined()
    return { header: header!, pair: header!.split(';')[0]! }
  }

  it('logs in with a secure, signed cookie; reads, promotes with rotation, logs out', async () => {
    expect((await me()).status).toBe(401)
    const login = await post('/login/alice')
    expect(login.status).toBe(200)
    const { header, pair } = cookieOf(login)
    expect(header).toMatch(/; HttpOnly; Secure; SameSite=Lax$/)
    expect(await (await me(pair)).json()).toEqual({ user: 'alice', role: 'user', rotated: false })

    const promote = await post('/promote', pair)
    expect(await promote.json()).toEqual({ role: 'admin' })
    const rotated = cookieOf(promote).pair
    expect(rotated).not.toBe(pair)
    expect(await (await me(rotated)).json()).toEqual({ user: 'alice', role: 'admin', rotated: false })
    expect(await (await me(pair)).json()).toEqual({ user: 'alice', role: 'admin', rotated: true })

    const logout = await post('/logout', rotated)
    expect(logout.status).toBe(204)
    expect(cookieOf(logout).header).toMatch(/^sid=; .*Max-Age=0/)
    expect((await me(rotated)).status).toBe(401)
  })

  it('records the device and logs out everywhere else', async () => {
    const laptop = cookieOf(await post('/login/carol')).pair
    const phone = cookieOf(await post('/login/carol')).pair
    const devices = await store.listForUser('carol')
    expect(devices).toHaveLength(2)
    for (const { device } of devices)
      expect(device).toMatchObject({ ip: '127.0.0.1', userAgent: expect.any(String) })
    expect(await (await post('/logout-others', phone)).json()).toEqual({ destroyed: 1 })
    expect((await me(laptop)).status).toBe(401)
    expect((await me(phone)).status).toBe(200)
  })

  it('rejects a tampered cookie', async () => {
    const pair = cookieOf(await post('/login/dave')).pair
    const tampered = `${pair.slice(0, -3)}${pair.endsWith('AAA') ? 'BBB' : 'AAA'}`
    expect((await me(tampered)).status).toBe(401)
  })
})
