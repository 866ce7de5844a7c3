import { createSession } from './create.js'
import { destroySession, destroySessionById } from './destroy.js'
import { resolveStoreOptions, type SessionStoreOptions } from './options.js'
import { readSession } from './read.js'
import { rotateSession } from './rotate.js'
import { createStoreContext } from './store-context.js'
import { parseToken } from './token.js'
import type { SessionData, SessionStore } from './types.js'
import { updateSession } from './update.js'
import { destroyUserSessions, listUserSessions } from './user-sessions.js'

/**
 * Server-side sessions on Redis. A token is `tag.id.secret`: Redis stores only the SHA-256 of the
 * secret, every operation is one Lua script on one hash slot, and times come from the Redis clock.
 */
export function createSessionStore<TData extends SessionData = SessionData>(
  options: SessionStoreOptions,
): SessionStore<TData> {
  const context = createStoreContext<TData>(resolveStoreOptions(options))
  // Async APIs reject, never throw: every method that validates input is an async function.
  return {
    create: async (userId, data, createOptions) => createSession(context, userId, data, createOptions),
    get(token) {
      const parsed = parseToken(token)
      if (!parsed) {
        context.counters.misses++
        return Promise.resolve(null)
      }
      return readSession(context, parsed, 'get').then((result) => result || null)
    },
    update: async (token, change, updateOptions) => updateSession(context, token, change, updateOptions),
    rotate: async (token, rotateOptions) => rotateSession(context, token, rotateOptions),
    destroy: async (token) => destroySession(context, token),
    destroyById: async (userId, sessionId) => destroySessionById(context, userId, sessionId),
    listForUser: async (userId, listOptions) => listUserSessions(context, userId, listOptions),
    destroyForUser: async (userId, destroyOptions) => destroyUserSessions(context, userId, destroyOptions),
    on: (event, listener) => context.events.on(event, listener),
    stats: () => ({ ...context.counters }),
  }
}
