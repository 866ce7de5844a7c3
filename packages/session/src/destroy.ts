import { assertName } from '@x/redis-core'
import { sessionDestroy } from './scripts/session-destroy.lua.js'
import type { StoreContext } from './store-context.js'
import { parsePublicId, parseToken, tagFor } from './token.js'
import type { SessionTraceContext } from './trace-context.js'
import type { SessionData } from './types.js'

/** Logout: destroys the session of a token (and its rotation partner). */
export async function destroySession<TData extends SessionData>(
  context: StoreContext<TData>,
  token: string,
  trace?: SessionTraceContext,
): Promise<boolean> {
  const parsed = parseToken(token)
  if (!parsed) return done(false, trace)
  if (trace) {
    trace.sessionId = parsed.publicId
    trace.roundTrips++
  }
  const { keys } = context
  const reply = await context.script(
    sessionDestroy,
    [keys.session(parsed.tag, parsed.id)],
    ['h', parsed.digest, parsed.id, keys.sessionPrefix(parsed.tag), keys.indexPrefix(parsed.tag)],
  )
  if (reply === 1) context.counters.destroys++
  return done(reply === 1, trace)
}

/** Revokes one device: destroys a session by its public id, only for its owner. */
export async function destroySessionById<TData extends SessionData>(
  context: StoreContext<TData>,
  userId: string,
  sessionId: string,
  trace?: SessionTraceContext,
): Promise<boolean> {
  assertName('userId', userId, 512)
  const parsed = parsePublicId(sessionId)
  if (!parsed || parsed.tag !== tagFor(userId)) return done(false, trace)
  if (trace) {
    trace.sessionId = sessionId
    trace.roundTrips++
  }
  const { keys } = context
  const reply = await context.script(
    sessionDestroy,
    [keys.session(parsed.tag, parsed.id)],
    ['u', userId, parsed.id, keys.sessionPrefix(parsed.tag), keys.indexPrefix(parsed.tag)],
  )
  if (reply === 1) context.counters.destroys++
  return done(reply === 1, trace)
}

function done(destroyed: boolean, trace: SessionTraceContext | undefined): boolean {
  if (trace) trace.outcome = destroyed ? 'destroyed' : 'missing'
  return destroyed
}
