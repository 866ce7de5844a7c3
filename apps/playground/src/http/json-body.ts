import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'

/**
 * Reads a JSON object body. Anything else (no body, malformed JSON, an array, a wrong content
 * type) is the client's mistake: 400 with a JSON problem body, never a 500.
 */
export async function readJsonObject(c: Context): Promise<Record<string, unknown>> {
  const type = c.req.header('content-type') ?? ''
  if (!/^application\/(.+\+)?json\b/i.test(type)) {
    throw badRequest('expected a JSON body (content-type: application/json)')
  }
  let body: unknown
  try {
    body = JSON.parse(await c.req.text())
  } catch {
    throw badRequest('the request body is not valid JSON')
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('the request body must be a JSON object')
  }
  return body as Record<string, unknown>
}

export function badRequest(detail: string): HTTPException {
  return problem(400, 'Bad Request', detail)
}

/** An HTTPException whose response is an RFC 9457 problem-details JSON body. */
export function problem(status: 400 | 401 | 403 | 404 | 409 | 429 | 503, title: string, detail: string) {
  return new HTTPException(status, {
    res: new Response(JSON.stringify({ type: 'about:blank', title, status, detail }), {
      status,
      headers: { 'content-type': 'application/problem+json' },
    }),
  })
}

/** Optional string field with a length limit; a wrong type is a 400. */
export function optionalString(body: Record<string, unknown>, name: string, maxLength: number) {
  const value = body[name]
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value.trim() === '' || value.length > maxLength) {
    throw badRequest(`"${name}" must be a non-empty string of at most ${maxLength} characters`)
  }
  return value.trim()
}

export function requiredString(body: Record<string, unknown>, name: string, maxLength: number): string {
  const value = optionalString(body, name, maxLength)
  if (value === undefined) throw badRequest(`"${name}" is required`)
  return value
}

/** A positive integer path or query parameter; anything else is a 400. */
export function positiveInteger(value: string | undefined, name: string): number {
  const parsed = Number(value)
  if (value === undefined || !/^\d{1,9}$/.test(value) || !Number.isSafeInteger(parsed) || parsed <= 0) {
    throw badRequest(`${name} must be a positive integer`)
  }
  return parsed
}

// What a user means by an e-mail address: one @, no spaces, a domain with a dot and a 2+ letter
// top-level part. "x@y" would be stored and then never match at sign-in.
const emailPattern = /^[^\s@]{1,64}@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/

/**
 * Optional e-mail field, lower-cased (sign-in lower-cases what it is given, so a stored capital
 * letter would lock the user out); anything that is not an address is a 400.
 */
export function optionalEmail(body: Record<string, unknown>, name: string): string | undefined {
  const value = optionalString(body, name, 254)?.toLowerCase()
  if (value !== undefined && !emailPattern.test(value)) {
    throw badRequest(`"${name}" must be an e-mail address such as ada@example.com`)
  }
  return value
}
