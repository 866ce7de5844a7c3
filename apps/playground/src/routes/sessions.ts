import { Hono } from 'hono'
import type { AppEnv } from '../app-env.js'
import { findCredentials } from '../db/users.js'
import { clearSessionCookie, getAuth, requireAuth, setSessionCookie } from '../http/auth.js'
import { problem, readJsonObject, requiredString } from '../http/json-body.js'
import { checkLoginLimits, clientIp } from '../http/rate-limit.js'
import { checkCredentials } from '../password.js'
import { getUser } from '../users.js'

function describeSession(session: {
  id: string
  createdAt: number
  lastAccess: number
  idleExpiresAt: number
  absoluteExpiresAt: number
}) {
  return {
    id: session.id,
    createdAt: new Date(session.createdAt).toISOString(),
    lastAccess: new Date(session.lastAccess).toISOString(),
    idleExpiresAt: new Date(session.idleExpiresAt).toISOString(),
    absoluteExpiresAt: new Date(session.absoluteExpiresAt).toISOString(),
  }
}

export function sessionRoutes() {
  return new Hono<AppEnv>()
    .post('/login', async (c) => {
      const body = await readJsonObject(c)
      const email = requiredString(body, 'email', 320).toLowerCase()
      const password = requiredString(body, 'password', 200)
      const { db, sessions } = c.var.services
      // Counted before the password is looked at, per address and per account: a guesser spread over
      // many addresses still meets the account's budget, and while Redis is away both refuse (503)
      // right and wrong passwords alike instead of telling them apart.
      await checkLoginLimits(c, email)
      const userId = await checkCredentials(await findCredentials(db, email), password)
      // The same answer for an unknown email and a wrong password: no account enumeration.
      if (userId === null) throw problem(401, 'Unauthorized', 'wrong email or password')
      const { token, session } = await sessions.create(
        String(userId),
        { email },
        {
          device: {
            userAgent: c.req.header('user-agent') ?? 'unknown',
            ip: clientIp(c),
            ...(typeof body.device === 'string' ? { label: body.device.slice(0, 100) } : {}),
          },
        },
      )
      setSessionCookie(c, token)
      return c.json({ userId, session: describeSession(session) })
    })
    .get('/me', async (c) => {
      const auth = await requireAuth(c)
      const user = await getUser(c.var.services, auth.userId)
      return c.json({ user, session: describeSession(auth.session) })
    })
    .post('/logout', async (c) => {
      const auth = await getAuth(c)
      if (auth) await c.var.services.sessions.destroy(auth.token)
      clearSessionCookie(c)
      return c.json({ loggedOut: auth !== null })
    })
    .get('/sessions', async (c) => {
      const auth = await requireAuth(c)
      const list = await c.var.services.sessions.listForUser(String(auth.userId), { current: auth.token })
      return c.json({
        sessions: list.map((info) => ({
          id: info.id,
          current: info.current,
          device: info.device,
          createdAt: new Date(info.createdAt).toISOString(),
          lastSeen: new Date(info.lastSeen).toISOString(),
          idleExpiresAt: new Date(info.idleExpiresAt).toISOString(),
          absoluteExpiresAt: new Date(info.absoluteExpiresAt).toISOString(),
        })),
      })
    })
    .delete('/sessions/:id', async (c) => {
      const auth = await requireAuth(c)
      const removed = await c.var.services.sessions.destroyById(String(auth.userId), c.req.param('id'))
      if (!removed) throw problem(404, 'Not Found', 'no such session of yours')
      return c.body(null, 204)
    })
    .post('/logout-all', async (c) => {
      const auth = await requireAuth(c)
      // Every other device is signed out; this one stays.
      const ended = await c.var.services.sessions.destroyForUser(String(auth.userId), { except: auth.token })
      return c.json({ ended })
    })
    .post('/rotate', async (c) => {
      const auth = await requireAuth(c)
      // The store's default grace (10 s): requests already in flight with the old cookie still work
      // (read-only) instead of failing as signed out; after it the old token is dead.
      const rotated = await c.var.services.sessions.rotate(auth.token)
      if (!rotated) throw problem(401, 'Unauthorized', 'the session ended before it could be rotated')
      setSessionCookie(c, rotated.token)
      return c.json({ session: describeSession(rotated.session) })
    })
}
