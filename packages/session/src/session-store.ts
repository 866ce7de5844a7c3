import { createTracing } from '@x/redis-core'
import { createSession } from './create.js'
import { destroySession, destroySessionById } from './destroy.js'
import { resolveStoreOptions, type SessionStoreOptions } from './options.js'
import { type ReadResult, readSession } from './read.js'
import { rotateSession } from './rotate.js'
import { createStoreContext } from './store-context.js'
import { parseToken } from './token.js'
import type { SessionTraceContext } from './trace-context.js'
import type { Session, SessionData, SessionStore } from './types.js'
import { updateSession } from './update.js'
import { destroyUserSessions, listUserSessions } from './user-sessions.js'

const tracing = createTracing('session')
const traceGet = tracing.operation('get')

/**
 * Server-side sessions on Redis. A token is `tag.id.secret`: Redis stores only the SHA-256 of the
 * secret, every operation is one Lua script on one hash slot, and times come from the Redis clock.
 * Every operation publishes on the tracing channel `x:session:<operation>`.
 */
export function createSessionStore<TData extends SessionData = SessionData>(
  options: SessionStoreOptions,
): SessionStore<TData> {
  const context = createStoreContext<TData>(resolveStoreOptions(options))
  const traced = <T>(operation: string, fn: (trace: SessionTraceContext) => Promise<T>): Promise<T> => {
    const trace: SessionTraceContext = { roundTrips: 0 }
    let result: T
    // Node's tracePromise puts the resolved value on the context as `result`, where subscribers
    // would see tokens and session data: the traced promise resolves to nothing instead. The async
    // function also turns a synchronous throw of input validation into a rejection.
    return tracing
      .trace(operation, trace, async () => {
        result = await fn(trace)
      })
      .then(() => result)
  }
  const miss = (): Promise<null> => {
    context.counters.misses++
    return Promise.resolve(null)
  }

  return {
    create: (userId, data, createOptions) =>
      traced('create', (trace) => createSession(context, userId, data, createOptions, trace)),

    // The hot path: no context object, no async layer when nobody traces.
    get(token) {
      const parsed = parseToken(token)
      if (!traceGet.active) {
        return parsed ? readSession(context, parsed, 'get').then(orNull) : miss()
      }
      const trace: SessionTraceContext = { roundTrips: 0, outcome: 'missing' }
      let session: Session<TData> | null = null
      // The traced promise resolves to nothing: Node would publish its value as `result`.
      const run = (): Promise<void> => {
        if (!parsed) return miss().then(() => {})
        trace.sessionId = parsed.publicId
        trace.roundTrips = 1
        return readSession(context, parsed, 'get').then((result) => {
          trace.outcome = outcomeOf(result)
          session = orNull(result)
        })
      }
      return traceGet.trace(trace, run).then(() => session)
    },

    update: (token, change, updateOptions) =>
      traced('update', (trace) => updateSession(context, token, change, updateOptions, trace)),
    rotate: (token, rotateOptions) =>
      traced('rotate', (trace) => rotateSession(context, token, rotateOptions, trace)),
    destroy: (token) => traced('destroy', (trace) => destroySession(context, token, trace)),
    destroyById: (userId, sessionId) =>
      traced('destroyById', (trace) => destroySessionById(context, userId, sessionId, trace)),
    listForUser: (userId, listOptions) =>
      traced('listForUser', (trace) => listUserSessions(context, userId, listOptions, trace)),
    destroyForUser: (userId, destroyOptions) =>
      traced('destroyForUser', (trace) => destroyUserSessions(context, userId, destroyOptions, trace)),
    on: (event, listener) => context.events.on(event, listener),
    stats: () => ({ ...context.counters }),
  }
}

function orNull<TData extends SessionData>(result: ReadResult<TData>): Session<TData> | null {
  return result || null
}

function outcomeOf<TData extends SessionData>(result: ReadResult<TData>): SessionTraceContext['outcome'] {
  if (result === 0) return 'expired'
  if (result === null) return 'missing'
  return result.rotated ? 'rotated' : 'found'
}
