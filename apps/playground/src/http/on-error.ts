import { RedisUnavailableError, TimeoutError, XError } from '@x/redis-core'
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'

function json(
  status: number,
  title: string,
  detail: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) {
  return new Response(JSON.stringify({ type: 'about:blank', title, status, detail, ...extra }), {
    status,
    headers: { 'content-type': 'application/problem+json', ...headers },
  })
}

/**
 * Every error becomes a JSON problem body. Redis being away or slow is a 503 (the client may retry);
 * anything unexpected is a 500 that is logged here, once, with its stack.
 */
export function onError(error: Error, c: Context): Response {
  if (error instanceof HTTPException) {
    const response = error.getResponse()
    if (response.headers.get('content-type')?.includes('json')) return response
    return json(error.status, response.statusText || 'Error', error.message || response.statusText)
  }
  if (RedisUnavailableError.isInstance(error) || TimeoutError.isInstance(error)) {
    return json(
      503,
      'Service Unavailable',
      'Redis is unavailable; try again shortly',
      { code: (error as XError).code },
      { 'Retry-After': '1' },
    )
  }
  // Postgres unique violation (an email already taken): the client's conflict, not our failure.
  if ((error as { code?: unknown }).code === '23505') {
    return json(409, 'Conflict', 'that value is already taken')
  }
  console.error(`[http] ${c.req.method} ${c.req.path} failed:`, error)
  const code = XError.isInstance(error) ? (error as XError).code : undefined
  return json(500, 'Internal Server Error', 'unexpected error', code ? { code } : {})
}
