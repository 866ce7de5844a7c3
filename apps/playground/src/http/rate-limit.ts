import { getConnInfo } from '@hono/node-server/conninfo'
import type { RateLimitResult } from '@x/ratelimit'
import type { Context, MiddlewareHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { AppEnv } from '../app-env.js'
import { rateLimitHeaders } from './rate-limit-headers.js'

/** The peer address. X-Forwarded-For is not trusted: anyone could send one to dodge the limit. */
export function clientIp(c: Context<AppEnv>): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown'
  } catch {
    return 'unknown'
  }
}

function applyHeaders(c: Context<AppEnv>, result: RateLimitResult): void {
  for (const [name, value] of Object.entries(rateLimitHeaders(result))) c.header(name, value)
}

async function reject(c: Context<AppEnv>, key: 'ip' | 'user', result: RateLimitResult): Promise<never> {
  const { publishEvent, instanceId } = c.var.services
  void publishEvent({ type: 'rate-limited', key, instance: instanceId })
  const seconds = Math.ceil(result.retryAfterMs / 1000)
  const body = {
    type: 'about:blank',
    title: 'Too Many Requests',
    status: 429,
    detail: `${key} rate limit reached; retry in ${seconds} s`,
    limit: key,
  }
  const headers = new Headers({ 'content-type': 'application/problem+json', ...rateLimitHeaders(result) })
  throw new HTTPException(429, { res: new Response(JSON.stringify(body), { status: 429, headers }) })
}

/** Probes and the page's own polling of its budgets do not spend them. */
const uncounted = new Set(['/health', '/ratelimit'])

/** Every other request counts against its client IP. */
export function ipRateLimit(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (uncounted.has(c.req.path)) return next()
    const result = await c.var.services.ipLimiter.limit(clientIp(c))
    applyHeaders(c, result)
    if (!result.allowed) await reject(c, 'ip', result)
    await next()
  }
}

/** Signed-in requests also count against the user, with two policies in one call. */
export async function checkUserLimit(c: Context<AppEnv>, userId: number): Promise<void> {
  const result = await c.var.services.userLimiter.limit(String(userId))
  // The user's headers replace the IP's: they describe the tighter, per-person budget.
  applyHeaders(c, result)
  if (!result.allowed) await reject(c, 'user', result)
}
