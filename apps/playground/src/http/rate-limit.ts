import { getConnInfo } from '@hono/node-server/conninfo'
import {
  honoRateLimit,
  problemDetails,
  type RateLimitResult,
  headers as rateLimitHeaders,
} from '@x/ratelimit'
import type { Context, MiddlewareHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { AppEnv } from '../app-env.js'

/** The peer address. X-Forwarded-For is not trusted: anyone could send one to dodge the limit. */
export function clientIp(c: Context<AppEnv>): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown'
  } catch {
    return 'unknown'
  }
}

function announce(c: Context<AppEnv>, key: 'ip' | 'user'): void {
  const { publishEvent, instanceId } = c.var.services
  void publishEvent({ type: 'rate-limited', key, instance: instanceId })
}

/**
 * Every request (probes and the page's polling of its budgets included) counts against its client IP, through @x/ratelimit's Hono middleware: it sets
 * the RateLimit headers and answers 429 with a problem-details body and Retry-After.
 */
export function ipRateLimit(): MiddlewareHandler<AppEnv> {
  let middleware: ReturnType<typeof honoRateLimit<Context<AppEnv>>> | undefined
  return async (c, next) => {
    middleware ??= honoRateLimit<Context<AppEnv>>({
      limiter: c.var.services.ipLimiter,
      key: (context) => clientIp(context),
      body: (result, context) => {
        announce(context, 'ip')
        return { ...problemDetails(result), limit: 'ip' }
      },
    })
    const refused = await middleware(c, next)
    if (refused) return refused
    // Both budgets in one field each (the draft allows a list): the IP's, then the user's.
    const user = c.get('userRateLimit')
    if (user) {
      for (const name of ['RateLimit', 'RateLimit-Policy']) {
        const ip = c.res.headers.get(name)
        const own = user[name]
        if (own) c.res.headers.set(name, ip ? `${ip}, ${own}` : own)
      }
    }
  }
}

/** Signed-in requests also count against the user, with two policies in one call. */
export async function checkUserLimit(c: Context<AppEnv>, userId: number): Promise<void> {
  const result: RateLimitResult = await c.var.services.userLimiter.limit(String(userId))
  const fields = rateLimitHeaders(result)
  c.set('userRateLimit', fields)
  if (result.allowed) return
  announce(c, 'user')
  const body = { ...problemDetails(result), limit: 'user' }
  throw new HTTPException(429, {
    res: new Response(JSON.stringify(body), {
      status: 429,
      headers: { ...fields, 'content-type': 'application/problem+json' },
    }),
  })
}

/**
 * Sign-in budgets: the account's (any address) and the address's. Both limiters fail closed, so an
 * unavailable Redis rejects here (503) before any password is checked.
 */
export async function checkLoginLimits(c: Context<AppEnv>, email: string): Promise<void> {
  const { loginAccountLimiter, loginIpLimiter } = c.var.services
  for (const [limiter, key] of [
    [loginAccountLimiter, email],
    [loginIpLimiter, clientIp(c)],
  ] as const) {
    const result = await limiter.limit(key)
    if (result.allowed) continue
    const body = { ...problemDetails(result), limit: result.policies[0]?.name ?? 'login' }
    throw new HTTPException(429, {
      res: new Response(JSON.stringify(body), {
        status: 429,
        headers: { ...rateLimitHeaders(result), 'content-type': 'application/problem+json' },
      }),
    })
  }
}
