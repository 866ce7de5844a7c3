import type { FastifyPluginAsync } from 'fastify'
import {
  createSessionControl,
  resolveCookie,
  type SessionControl,
  type SessionIntegrationOptions,
} from '../session-control.js'
import type { Session, SessionData } from '../types.js'

/**
 * The shape of your session data on Fastify requests. Declare your fields once:
 *
 * ```ts fragment
 * declare module '@x/session/fastify' {
 *   interface FastifySessionData {
 *     role: 'user' | 'admin'
 *   }
 * }
 * ```
 */
export interface FastifySessionData extends SessionData {}

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's session, or null (no cookie, or a dead, forged or malformed one). */
    session: Session<FastifySessionData> | null
    /** Sign in and out, update, rotate; every change also sets or clears the cookie. */
    sessions: SessionControl<FastifySessionData>
  }
}

/**
 * A Fastify plugin: reads the session cookie in an `onRequest` hook, loads the session (no Redis
 * call without a cookie) and decorates the request with `request.session` and
 * `request.sessions`. Not encapsulated: register it once on the root instance. A Redis failure
 * while loading rejects to Fastify's error handler: sessions fail closed.
 */
export function sessionPlugin(options: SessionIntegrationOptions<FastifySessionData>): FastifyPluginAsync {
  const { store } = options
  const cookie = resolveCookie(options.cookie)
  const plugin: FastifyPluginAsync = async (fastify) => {
    fastify.decorateRequest('session', null)
    fastify.decorateRequest('sessions', null as unknown as SessionControl<FastifySessionData>)
    fastify.addHook('onRequest', async (request, reply) => {
      const token = cookie.read(request)
      const session = token ? await store.get(token) : null
      request.session = session
      const userAgent = request.headers['user-agent']
      request.sessions = createSessionControl({
        store,
        cookie,
        token,
        session,
        device: { ...(userAgent === undefined ? {} : { userAgent }), ip: request.ip },
        setCookie: (value) => {
          reply.header('set-cookie', value)
        },
        changed: (next) => {
          request.session = next
        },
      })
    })
  }
  // What the fastify-plugin package does: decorators and hooks apply to the instance it is
  // registered on, not to a child context.
  Object.assign(plugin, {
    [Symbol.for('skip-override')]: true,
    [Symbol.for('fastify.display-name')]: '@x/session',
  })
  return plugin
}
