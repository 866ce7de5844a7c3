import type { Context } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import type { AppEnv, Auth } from '../app-env.js'
import { problem } from './json-body.js'
import { checkUserLimit } from './rate-limit.js'

export const sessionCookie = 'sid'

/**
 * The request's session, or null. A missing, garbage, forged, expired or revoked token is simply
 * "not signed in" (the store answers null without touching Redis for malformed tokens); only Redis
 * being away is an error, and that one is a 503, not a 401, so clients do not log users out.
 */
export async function getAuth(c: Context<AppEnv>): Promise<Auth | null> {
  const known = c.get('auth')
  if (known !== undefined) return known
  const token = getCookie(c, sessionCookie)
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
  if (!auth) {
    if (getCookie(c, sessionCookie)) deleteCookie(c, sessionCookie, { path: '/' })
    throw problem(401, 'Unauthorized', 'sign in first: POST /login')
  }
  await checkUserLimit(c, auth.userId)
  return auth
}

/** Secure defaults: HttpOnly, SameSite=Lax, Path=/; Secure when served over https (COOKIE_SECURE). */
export function setSessionCookie(c: Context<AppEnv>, token: string): void {
  setCookie(c, sessionCookie, token, {
    httpOnly: true,
    sameSite: 'Lax',
    path: '/',
    secure: c.var.services.config.cookieSecure,
    maxAge: 7 * 24 * 60 * 60,
  })
}

export function clearSessionCookie(c: Context<AppEnv>): void {
  deleteCookie(c, sessionCookie, { path: '/' })
}
