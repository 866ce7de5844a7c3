import type { AddressInfo } from 'node:net'
import { createRedis, DecodeError, InvalidArgumentError } from '@x/redis-core'
import { targets, useRedis } from '@x/testkit/vitest'
import express from 'express'
import session from 'express-session'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createExpressSessionStore, type ExpressSessionStoreErrorEvent } from './express-store.js'

declare module 'express-session' {
  interface SessionData {
    userId: string
    visits: number
  }
}

describe.each(targets())('express-session store on $name', (target) => {
  const redis = useRedis(target, createRedis)
  let inspector: ReturnType<typeof target.client>
  let store: ReturnType<typeof createExpressSessionStore<typeof session.Store>>
  let sidCounter = 0
  const sid = () => `sid-${++sidCounter}-${Math.random().toString(36).slice(2)}`
  const sample = (extra: Record<string, unknown> = {}) => ({
    cookie: { originalMaxAge: 60_000, maxAge: 60_000, expires: null },
    ...extra,
  })

  beforeAll(() => {
    inspector = target.client()
    store = createExpressSessionStore(session, { redis, prefix: `${target.prefix}:es` })
  })

  it('is an express-session Store', () => {
    expect(store).toBeInstanceOf(session.Store)
    expect(typeof store.createSession).toBe('function')
  })

  it('sets, gets, touches and destroys with promises and callbacks', async () => {
    const id = sid()
    await store.set(id, sample({ userId: 'u1', visits: 1 }))
    expect(await store.get(id)).toEqual(sample({ userId: 'u1', visits: 1 }))
    const viaCallback = await new Promise((resolve, reject) =>
      store.get(id, (error, value) => (error ? reject(error) : resolve(value))),
    )
    expect(viaCallback).toEqual(sample({ userId: 'u1', visits: 1 }))
    await store.touch(id, { cookie: { maxAge: 120_000 } })
    expect((await store.get(id))!.cookie).toEqual(sample().cookie)
    await new Promise<void>((resolve, reject) =>
      store.destroy(id, (error) => (error ? reject(error) : resolve())),
    )
    expect(await store.get(id)).toBeNull()
  })

  it('uses the cookie lifetime as the key ttl, or the default ttl', async () => {
    const id = sid()
    await store.set(id, sample())
    const keysWithTtl: number[] = []
    for (const node of 'nodes' in inspector ? inspector.nodes('master') : [inspector]) {
      const [, keys] = await node.scan('0', 'MATCH', `${target.prefix}:es:*:s`, 'COUNT', '10000')
      for (const key of keys) keysWithTtl.push(await node.pttl(key))
    }
    expect(keysWithTtl.some((pttl) => pttl > 50_000 && pttl <= 60_000)).toBe(true)
    await store.set(id, { cookie: { expires: new Date(Date.now() - 1000) } })
    expect(await store.get(id)).toBeNull()
  })

  it('never stores the raw session id, and ids() returns digests', async () => {
    const id = sid()
    await store.set(id, sample({ marker: 'ids-test' }))
    const ids = await store.ids()
    expect(ids.length).toBeGreaterThan(0)
    expect(ids).not.toContain(id)
    const all = await store.all()
    const mine = all.find((entry) => entry.marker === 'ids-test')
    expect(mine?.id).toBeDefined()
    expect(mine?.id).not.toBe(id)
    const dump: string[] = []
    for (const node of 'nodes' in inspector ? inspector.nodes('master') : [inspector]) {
      const [, keys] = await node.scan('0', 'MATCH', `${target.prefix}:es:*`, 'COUNT', '10000')
      for (const key of keys) dump.push(key, String((await node.dumpBuffer(key))?.toString('latin1')))
    }
    expect(dump.join('\n')).not.toContain(id)
  })

  it('touch extends the key ttl and never creates a key', async () => {
    const isolated = createExpressSessionStore(session, { redis, prefix: `${target.prefix}:touch` })
    const id = sid()
    await isolated.set(id, sample())
    const [d] = await isolated.ids()
    const key = `${target.prefix}:touch:{${d}}:s`
    expect(await inspector.pttl(key)).toBeLessThanOrEqual(60_000)
    await isolated.touch(id, { cookie: { maxAge: 600_000 } })
    expect(await inspector.pttl(key)).toBeGreaterThan(60_000)
    const missing = sid()
    await isolated.touch(missing, { cookie: { maxAge: 600_000 } })
    expect(await isolated.get(missing)).toBeNull()
    expect(await isolated.length()).toBe(1)
  })

  it('does not let a late save revive a destroyed session', async () => {
    const id = sid()
    await store.set(id, sample({ userId: 'late' }))
    await store.destroy(id)
    // A request that loaded the session before the logout finishes and saves it.
    await store.set(id, sample({ userId: 'late', visits: 2 }))
    await store.touch(id, sample())
    expect(await store.get(id)).toBeNull()
  })

  it('counts, lists and clears with SCAN', async () => {
    const isolated = createExpressSessionStore(session, { redis, prefix: `${target.prefix}:iso` })
    for (let i = 0; i < 25; i++) await isolated.set(sid(), sample({ n: i }))
    expect(await isolated.length()).toBe(25)
    expect(await isolated.ids()).toHaveLength(25)
    expect((await isolated.all()).map((entry) => entry.n).sort((a, b) => Number(a) - Number(b))).toEqual(
      Array.from({ length: 25 }, (_, i) => i),
    )
    await isolated.destroy(sid())
    await isolated.clear()
    expect(await isolated.length()).toBe(0)
  })

  it('destroys every session of a user but the current one', async () => {
    const ids = [sid(), sid(), sid()]
    for (const id of ids) await store.set(id, sample({ userId: 'multi' }))
    const otherUser = sid()
    await store.set(otherUser, sample({ userId: 'someone' }))
    expect(await store.destroyForUser('multi', { except: ids[1] })).toBe(2)
    expect(await store.get(ids[0]!)).toBeNull()
    expect(await store.get(ids[1]!)).not.toBeNull()
    expect(await store.get(ids[2]!)).toBeNull()
    expect(await store.get(otherUser)).not.toBeNull()
    // A save from a request that was in flight does not bring them back.
    await store.set(ids[0]!, sample({ userId: 'multi' }))
    expect(await store.get(ids[0]!)).toBeNull()
  })

  it('destroyForUser without a signed-in user rejects with a clear InvalidArgumentError', async () => {
    const rejected = store.destroyForUser(undefined as unknown as string)
    await expect(rejected).rejects.toSatisfy((error) => InvalidArgumentError.isInstance(error))
    await expect(store.destroyForUser('')).rejects.toThrow(/signed-in user/)
  })

  it('treats a corrupt session as missing and reports it', async () => {
    const errors: ExpressSessionStoreErrorEvent[] = []
    const reporting = createExpressSessionStore(session, { redis, prefix: `${target.prefix}:corrupt` })
    reporting.on('error', (payload: ExpressSessionStoreErrorEvent) => errors.push(payload))
    const id = sid()
    await reporting.set(id, sample())
    const [d] = await reporting.ids()
    await inspector.set(`${target.prefix}:corrupt:{${d}}:s`, 'garbage')
    expect(await reporting.get(id)).toBeNull()
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatchObject({ operation: 'get', key: d })
    expect(DecodeError.isInstance(errors[0]!.error)).toBe(true)
    expect(JSON.stringify(errors[0])).not.toContain(id)
  })

  describe('in an Express app over HTTP', () => {
    let base = ''
    let close: () => Promise<void> = async () => {}

    beforeAll(async () => {
      const app = express()
      app.use(
        session({
          store,
          secret: 'test secret that is long enough',
          resave: false,
          saveUninitialized: false,
          cookie: { httpOnly: true, sameSite: 'lax', secure: false, maxAge: 60_000 },
        }),
      )
      app.post('/login/:user', (req, res, next) => {
        req.session.regenerate((error) => {
          if (error) return next(error)
          req.session.userId = String(req.params.user)
          req.session.save((saveError) => (saveError ? next(saveError) : res.send('ok')))
        })
      })
      app.get('/me', (req, res) => {
        if (!req.session.userId) return void res.status(401).send('unauthorized')
        req.session.visits = (req.session.visits ?? 0) + 1
        res.json({ user: req.session.userId, visits: req.session.visits })
      })
      app.post('/logout', (req, res, next) => {
        req.session.destroy((error) => (error ? next(error) : res.send('bye')))
      })
      app.post('/logout-everywhere', async (req, res, next) => {
        try {
          if (!req.session.userId) return void res.status(401).send('unauthorized')
          const count = await store.destroyForUser(req.session.userId, { except: req.sessionID })
          res.json({ destroyed: count })
        } catch (error) {
          next(error)
        }
      })
      const server = app.listen(0, '127.0.0.1')
      await new Promise<void>((resolve) => server.once('listening', () => resolve()))
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      close = () => new Promise<void>((resolve) => server.close(() => resolve()))
    })

    afterAll(async () => {
      await close()
    })

    const login = async (user: string) => {
      const response = await fetch(`${base}/login/${user}`, { method: 'POST' })
      expect(response.status).toBe(200)
      const cookie = response.headers.get('set-cookie')!
      expect(cookie).toMatch(/HttpOnly/)
      return cookie.split(';')[0]!
    }
    const me = (cookie?: string) => fetch(`${base}/me`, { headers: cookie ? { cookie } : {} })

    it('logs in, serves an authenticated request, logs out', async () => {
      const cookie = await login('alice')
      const first = await me(cookie)
      expect(await first.json()).toEqual({ user: 'alice', visits: 1 })
      expect(await (await me(cookie)).json()).toEqual({ user: 'alice', visits: 2 })
      expect((await me()).status).toBe(401)
      expect((await fetch(`${base}/logout`, { method: 'POST', headers: { cookie } })).status).toBe(200)
      expect((await me(cookie)).status).toBe(401)
    })

    it('logs out everywhere from another session', async () => {
      const laptop = await login('bob')
      const phone = await login('bob')
      const tablet = await login('bob')
      const carol = await login('carol')
      for (const cookie of [laptop, phone, tablet]) expect((await me(cookie)).status).toBe(200)
      const response = await fetch(`${base}/logout-everywhere`, {
        method: 'POST',
        headers: { cookie: phone },
      })
      expect(await response.json()).toEqual({ destroyed: 2 })
      expect((await me(laptop)).status).toBe(401)
      expect((await me(tablet)).status).toBe(401)
      expect((await me(phone)).status).toBe(200)
      expect((await me(carol)).status).toBe(200)
    })
  })
})
