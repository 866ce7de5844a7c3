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

/**
 * GET /ratelimit: every budget the caller has (address, user, and sign-in by address and by
 * account), read with peek: reading them spends nothing.
 */
export function rateLimitStateRoutes() {
  return new Hono<AppEnv>().get('/ratelimit', async (c) => {
    const { ipLimiter, userLimiter, loginIpLimiter, loginAccountLimiter } = c.var.services
    const ip = clientIp(c)
    const auth = await getAuth(c)
    // The sign-in limiters fail closed (they throw while Redis is away): shown when readable.
    const unreadable = () => null
    const [ipState, userState, loginIpState, loginAccountState] = await Promise.all([
      ipLimiter.peek(ip),
      auth ? userLimiter.peek(String(auth.userId)) : Promise.resolve(null),
      loginIpLimiter.peek(ip).catch(unreadable),
      auth ? loginAccountLimiter.peek(auth.session.data.email).catch(unreadable) : Promise.resolve(null),
    ])
    return c.json({
      ip: { key: ip, ...describe(ipState) },
      user: auth && userState ? { key: String(auth.userId), ...describe(userState) } : null,
      loginIp: loginIpState ? { key: ip, ...describe(loginIpState) } : null,
      loginAccount:
        auth && loginAccountState ? { key: auth.session.data.email, ...describe(loginAccountState) } : null,
    })
  })
}
