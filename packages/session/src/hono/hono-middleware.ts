import type { MiddlewareHandler } from 'hono'
import {
  createSessionControl,
  resolveCookie,
  type SessionControl,
  type SessionIntegrationOptions,
} from '../session-control.js'
import type { Session, SessionData } from '../types.js'

/**
 * The Hono environment the middleware provides: `c.var.session` (the request's session or null)
 * and `c.var.sessions` (login, logout, update, rotate). Use it as the app's type parameter:
 * `new Hono<SessionEnv<MyData>>()`.
 */
export type SessionEnv<TData extends SessionData = SessionData> = {
  Variables: {
    session: Session<TData> | null
    sessions: SessionControl<TData>
  }
}

/**
 * Hono middleware: reads the session cookie, loads the session (no Redis call without a cookie)
 * and exposes it as `c.var.session`, with `c.var.sessions` to sign in and out. A Redis failure
 * while loading rejects to Hono's error handler: sessions fail closed.
 */
export function sessionMiddleware<TData extends SessionData = SessionData>(
  options: SessionIntegrationOptions<TData>,
): MiddlewareHandler<SessionEnv<TData>> {
  const { store } = options
  const cookie = resolveCookie(options.cookie)
  return async (c, next) => {
    const token = cookie.read(c.req.raw)
    const session = token ? await store.get(token) : null
    c.set('session', session)
    const userAgent = c.req.header('user-agent')
    c.set(
      'sessions',
      createSessionControl({
        store,
        cookie,
        token,
        session,
        device: userAgent === undefined ? undefined : { userAgent },
        setCookie: (value) => c.header('Set-Cookie', value, { append: true }),
        changed: (next) => c.set('session', next),
      }),
    )
    await next()
  }
}
