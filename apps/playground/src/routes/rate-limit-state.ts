import type { RateLimitResult } from '@x/ratelimit'
import { Hono } from 'hono'
import type { AppEnv } from '../app-env.js'
import { getAuth } from '../http/auth.js'
import { clientIp } from '../http/rate-limit.js'

function describe(result: RateLimitResult) {
  return {
    allowed: result.allowed,
    remaining: result.remaining,
    limit: result.limit,
    resetMs: result.resetMs,
    reason: result.reason ?? null,
    policies: result.policies.map(({ name, limit, remaining, windowMs, resetMs }) => ({
      name,
      limit,
      remaining,
      windowMs,
      resetMs,
    })),
  }
}

/** GET /ratelimit: the caller's budgets, read with peek (reading them costs nothing). */
export function rateLimitStateRoutes() {
  return new Hono<AppEnv>().get('/ratelimit', async (c) => {
    const { ipLimiter, userLimiter } = c.var.services
    const ip = clientIp(c)
    const auth = await getAuth(c)
    const [ipState, userState] = await Promise.all([
      ipLimiter.peek(ip),
      auth ? userLimiter.peek(String(auth.userId)) : Promise.resolve(null),
    ])
    return c.json({
      ip: { key: ip, ...describe(ipState) },
      user: auth && userState ? { key: String(auth.userId), ...describe(userState) } : null,
    })
  })
}
