import { Hono } from 'hono'
import type { AppEnv } from '../app-env.js'
import { profileQueryCount } from '../db/users.js'

/**
 * GET /stats: this instance's counters, as plain numbers for the page's charts (no Redis call).
 * Cumulative counters keep growing; the page charts their rate per second.
 */
export function statsRoutes() {
  return new Hono<AppEnv>().get('/stats', (c) => {
    const { cache, eventStreams, instanceId } = c.var.services
    return c.json({
      instance: instanceId,
      time: Date.now(),
      cache: cache.stats(),
      database: { profileQueries: profileQueryCount() },
      eventStreams: eventStreams.open,
    })
  })
}
