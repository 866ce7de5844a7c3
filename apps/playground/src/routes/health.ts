import { ping } from '@x/redis-core'
import { Hono } from 'hono'
import type { AppEnv } from '../app-env.js'

/** GET /health: always 200 while the process serves HTTP; the body says what works. */
export function healthRoutes() {
  return new Hono<AppEnv>().get('/health', async (c) => {
    const { db, redis, instanceId, database } = c.var.services
    const [redisStatus, databaseStatus] = await Promise.all([
      ping(redis).then(
        ({ latencyMs }) => ({ ok: true as const, latencyMs: Math.round(latencyMs * 100) / 100 }),
        (error: Error) => ({ ok: false as const, error: error.message }),
      ),
      db.query('SELECT 1').then(
        () => ({ ok: true as const, kind: db.kind, description: database }),
        (error: Error) => ({
          ok: false as const,
          kind: db.kind,
          description: database,
          error: error.message,
        }),
      ),
    ])
    const status = redisStatus.ok && databaseStatus.ok ? 'ok' : 'degraded'
    return c.json({ status, instance: instanceId, redis: redisStatus, database: databaseStatus })
  })
}
