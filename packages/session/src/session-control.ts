import { createSessionCookie, type SessionCookie, type SessionCookieOptions } from './session-cookie.js'
import type {
  CreateOptions,
  RotateOptions,
  Session,
  SessionChange,
  SessionData,
  SessionStore,
  UpdateOptions,
} from './types.js'

/** Options shared by the Fastify plugin and the Hono middleware. */
export interface SessionIntegrationOptions<TData extends SessionData> {
  /** The store from `createSessionStore`. */
  store: SessionStore<TData>
  /**
   * The session cookie, or options for `createSessionCookie`. Its defaults are `HttpOnly`,
   * `Secure`, `SameSite=Lax`, `Path=/`: for plain http during development (where some clients
   * drop `Secure` cookies), pass `{ secure: process.env.NODE_ENV === 'production' }`. Add `keys`
   * to sign the cookie.
   * @default createSessionCookie()
   */
  cookie?: SessionCookie | SessionCookieOptions
}

/** What a request handler does with its session; every change also sets or clears the cookie. */
export interface SessionControl<TData extends SessionData> {
  /** The session of this request, or null (no cookie, or a dead, forged or malformed one). */
  readonly current: Session<TData> | null
  /**
   * Signs a user in: destroys the request's previous session (if any), creates a new one and sets
   * its cookie (`Max-Age` = the store's absolute lifetime). The device's user agent (and, on
   * Fastify, its address) is recorded unless `options.device` says otherwise.
   */
  login(userId: string, data: TData, options?: CreateOptions): Promise<Session<TData>>
  /** Destroys the session and clears the cookie. */
  logout(): Promise<void>
  /** `store.update` on the current session; null when there is none. */
  update(change: SessionChange<TData>, options?: UpdateOptions): Promise<Session<TData> | null>
  /**
   * A new token for the current session (after a privilege change) and its cookie; the old token
   * stays readable for the store's short grace. Null when there is no session.
   */
  rotate(options?: RotateOptions): Promise<Session<TData> | null>
  /** Destroys every other session of the current user ("log out everywhere else"). 0 without a session. */
  logoutOthers(): Promise<number>
}

export function resolveCookie(cookie: SessionCookie | SessionCookieOptions | undefined): SessionCookie {
  if (cookie && typeof (cookie as SessionCookie).serialize === 'function') return cookie as SessionCookie
  return createSessionCookie(cookie as SessionCookieOptions | undefined)
}

interface ControlInput<TData extends SessionData> {
  store: SessionStore<TData>
  cookie: SessionCookie
  token: string | null
  session: Session<TData> | null
  /** The device recorded on login when the caller gives none. */
  device: CreateOptions['device']
  /** Appends a `Set-Cookie` header value to the response. */
  setCookie(value: string): void
  /** Publishes the new current session to the framework's request state. */
  changed(session: Session<TData> | null): void
}

/** The per-request session control of the framework integrations. */
export function createSessionControl<TData extends SessionData>(
  input: ControlInput<TData>,
): SessionControl<TData> {
  const { store, cookie } = input
  let token = input.token
  let current = input.session
  const set = (nextToken: string | null, session: Session<TData> | null) => {
    token = nextToken
    current = session
    input.changed(session)
  }
  const issue = (nextToken: string, session: Session<TData>) => {
    input.setCookie(cookie.serialize(nextToken, { maxAgeMs: session.absoluteExpiresAt - session.createdAt }))
    set(nextToken, session)
  }
  return {
    get current() {
      return current
    },
    async login(userId, data, options = {}) {
      // A fresh token on every login: a token planted before sign-in (session fixation) stays anonymous.
      if (token) await store.destroy(token)
      const created = await store.create(userId, data, { device: options.device ?? input.device })
      issue(created.token, created.session)
      return created.session
    },
    async logout() {
      if (token) await store.destroy(token)
      input.setCookie(cookie.serializeClear())
      set(null, null)
    },
    async update(change, options) {
      if (!token || !current) return null
      const updated = await store.update(token, change, options)
      set(updated ? token : null, updated)
      return updated
    },
    async rotate(options) {
      if (!token || !current) return null
      const rotated = await store.rotate(token, options)
      if (!rotated) {
        set(null, null)
        return null
      }
      issue(rotated.token, rotated.session)
      return rotated.session
    },
    async logoutOthers() {
      if (!token || !current) return 0
      return store.destroyForUser(current.userId, { except: token })
    },
  }
}
