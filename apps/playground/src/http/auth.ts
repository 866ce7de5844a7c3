import type { Context } from 'hono'
import type { AppEnv, Auth } from '../app-env.js'
import { problem } from './json-body.js'
import { checkUserLimit } from './rate-limit.js'

/**
 * The request's session, or null. A missing, garbage, forged, expired or revoked token is simply
 * "not signed in" (the store answers null without touching Redis for malformed tokens); only Redis
 * being away is an error, and that one is a 503, not a 401, so clients do not log users out.
 */
export async function getAuth(c: Context<AppEnv>): Promise<Auth | null> {
  const known = c.get('auth')
  if (known !== undefined) return known
  // null for an absent cookie, a malformed one, or one whose signature matches none of the keys.
  const token = c.var.services.sessionCookie.read(c.req.raw)
  let auth: Auth | null = null
  if (token) {
    const session = await c.var.services.sessions.get(token)
    const userId = Number(session?.userId)
    if (session && Number.isSafeInteger(userId)) auth = { token, session, userId }
  }
  c.set('auth', auth)
  return auth
}

/** 401 without a valid session; otherwise the session, after the per-user rate limit. */
export async function requireAuth(c: Context<AppEnv>): Promise<Auth> {
  const auth = await getAuth(c)
  // No Set-Cookie to clear it: this request may carry a token that was rotated while it was in
  // flight, and clearing would delete the newer cookie the rotation just set. Only /logout clears.
  if (!auth) throw problem(401, 'Unauthorized', 'sign in first: POST /login')
  await checkUserLimit(c, auth.userId)
  return auth
}

/** The signed session cookie (see `sessionCookie` in services.ts for its attributes). */
export function setSessionCookie(c: Context<AppEnv>, token: string): void {
  c.header('Set-Cookie', c.var.services.sessionCookie.serialize(token), { append: true })
}

export function clearSessionCookie(c: Context<AppEnv>): void {
  c.header('Set-Cookie', c.var.services.sessionCookie.serializeClear(), { append: true })
}
