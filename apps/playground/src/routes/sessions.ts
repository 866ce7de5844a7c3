import { Hono } from 'hono'
import type { AppEnv } from '../app-env.js'
import { findCredentials } from '../db/users.js'
import { clearSessionCookie, getAuth, requireAuth, setSessionCookie } from '../http/auth.js'
import { problem, readJsonObject, requiredString } from '../http/json-body.js'
import { clientIp } from '../http/rate-limit.js'
import { verifyPassword } from '../password.js'
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
      const credentials = await findCredentials(db, email)
      // The same answer for an unknown email and a wrong password: no account enumeration.
      if (!credentials || !(await verifyPassword(password, credentials.passwordHash))) {
        throw problem(401, 'Unauthorized', 'wrong email or password')
      }
      const { token, session } = await sessions.create(
        String(credentials.id),
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
      return c.json({ userId: credentials.id, session: describeSession(session) })
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
      // No grace: the old cookie is dead the moment the new one is issued (a copied one is useless).
      const rotated = await c.var.services.sessions.rotate(auth.token, { graceMs: 0 })
      if (!rotated) {
        clearSessionCookie(c)
        throw problem(401, 'Unauthorized', 'the session ended before it could be rotated')
      }
      setSessionCookie(c, rotated.token)
      return c.json({ session: describeSession(rotated.session) })
    })
}
