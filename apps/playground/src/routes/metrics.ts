import { Hono } from 'hono'
import type { AppEnv } from '../app-env.js'

/** The Prometheus text exposition format that scrapers negotiate by default. */
const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8'

/**
 * GET /metrics: every @x metric of this process in Prometheus text format, for a scraper. An
 * operator endpoint: no session (a scraper has none) and nothing secret in it (names, outcomes and
 * counts only), rate-limited like every route; in production it belongs behind the network boundary.
 *
 * GET /metrics/summary: the counters the page charts, as JSON, from the same collection.
 */
export function metricsRoutes() {
  return new Hono<AppEnv>()
    .get('/metrics', async (c) =>
      c.body(await c.var.services.telemetry.prometheus(), 200, { 'content-type': PROMETHEUS_TEXT }),
    )
    .get('/metrics/summary', async (c) => {
      const { telemetry } = c.var.services
      return c.json({ ...(await telemetry.summary()), recentSpans: telemetry.recentSpans() })
    })
}
