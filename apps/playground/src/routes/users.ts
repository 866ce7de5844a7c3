import { Hono } from 'hono'
import type { AppEnv } from '../app-env.js'
import { withCacheOutcome } from '../cache-outcome.js'
import { profileQueryCount } from '../db/users.js'
import { requireAuth } from '../http/auth.js'
import {
  badRequest,
  optionalEmail,
  optionalString,
  positiveInteger,
  problem,
  readJsonObject,
} from '../http/json-body.js'
import { forgetUser, getUser, getUsers, invalidateUsers, saveUser } from '../users.js'

const maxBatch = 100
const maxStampede = 500

function boundedCount(value: string | undefined, fallback: number, max: number): number {
  if (value === undefined || value === '') return fallback
  const parsed = positiveInteger(value, 'readers')
  if (parsed > max) throw badRequest(`readers must be at most ${max}`)
  return parsed
}

export function userRoutes() {
  return (
    new Hono<AppEnv>()
      // Profiles carry the e-mail, which is also the login name: signed-in users only.
      .get('/users', async (c) => {
        await requireAuth(c)
        const raw = c.req.query('ids')
        if (!raw) throw badRequest('pass ids, e.g. /users?ids=1,2,3')
        const ids = [...new Set(raw.split(',').map((part) => positiveInteger(part.trim(), 'each id')))]
        if (ids.length > maxBatch) throw badRequest(`at most ${maxBatch} ids at once`)
        const users = await getUsers(c.var.services, ids)
        return c.json({
          users: users.filter((user) => user !== null),
          missing: ids.filter((_, i) => !users[i]),
        })
      })
      .get('/users/:id', async (c) => {
        const id = positiveInteger(c.req.param('id'), 'user id')
        await requireAuth(c)
        const { value: user, outcome } = await withCacheOutcome(() => getUser(c.var.services, id))
        // How this read was answered: hit-l1, hit-redis, miss, stale or coalesced.
        c.header('X-Cache', outcome)
        if (!user) throw problem(404, 'Not Found', `no user ${id}`)
        return c.json(user)
      })
      // N concurrent reads of one cold key: the cache runs one database query for all of them.
      .post('/users/:id/stampede', async (c) => {
        const id = positiveInteger(c.req.param('id'), 'user id')
        const readers = boundedCount(c.req.query('readers'), 50, maxStampede)
        await requireAuth(c)
        const { services } = c.var
        await forgetUser(services, id)
        const before = profileQueryCount()
        const reads = await Promise.all(
          Array.from({ length: readers }, () => withCacheOutcome(() => getUser(services, id))),
        )
        const outcomes: Record<string, number> = {}
        for (const { outcome } of reads) outcomes[outcome] = (outcomes[outcome] ?? 0) + 1
        return c.json({ userId: id, readers, databaseQueries: profileQueryCount() - before, outcomes })
      })
      .put('/users/:id', async (c) => {
        const id = positiveInteger(c.req.param('id'), 'user id')
        const auth = await requireAuth(c)
        if (auth.userId !== id) throw problem(403, 'Forbidden', 'you can only change your own profile')
        const body = await readJsonObject(c)
        const name = optionalString(body, 'name', 200)
        const email = optionalEmail(body, 'email')
        if (name === undefined && email === undefined) throw badRequest('send "name" and/or "email"')
        const user = await saveUser(c.var.services, id, { name, email })
        if (!user) throw problem(404, 'Not Found', `no user ${id}`)
        const { publishEvent, instanceId } = c.var.services
        void publishEvent({ type: 'user-updated', userId: id, version: user.version, instance: instanceId })
        return c.json(user)
      })
      .delete('/users/cache', async (c) => {
        await requireAuth(c)
        await invalidateUsers(c.var.services)
        return c.body(null, 204)
      })
  )
}
