import { assertPositive } from '@x/redis-core'
import { sessionRotate } from './scripts/session-rotate.lua.js'
import type { StoreContext } from './store-context.js'
import { generateTokenForTag, parseToken } from './token.js'
import type { SessionTraceContext } from './trace-context.js'
import type { RotateOptions, Session, SessionData } from './types.js'

// Long enough for requests already in flight with the old cookie, short enough to leave a stolen
// old token little use.
const DEFAULT_GRACE_MS = 10_000

export async function rotateSession<TData extends SessionData>(
  context: StoreContext<TData>,
  token: string,
  options: RotateOptions = {},
  trace?: SessionTraceContext,
): Promise<{ token: string; session: Session<TData> } | null> {
  const graceMs = assertPositive('graceMs', options.graceMs ?? DEFAULT_GRACE_MS, {
    allowZero: true,
    integer: true,
  })
  const parsed = parseToken(token)
  if (!parsed) {
    if (trace) trace.outcome = 'missing'
    return null
  }
  if (trace) {
    trace.sessionId = parsed.publicId
    trace.roundTrips++
  }
  const { keys, counters } = context
  const { idleTimeoutMs } = context.options
  // A new id that is already taken (96 random bits) also returns null: not worth a retry.
  const next = generateTokenForTag(parsed.tag)
  const reply = await context.script(
    sessionRotate,
    [keys.session(parsed.tag, parsed.id), keys.session(parsed.tag, next.parsed.id)],
    [
      parsed.digest,
      next.parsed.digest,
      parsed.id,
      next.parsed.id,
      Math.min(graceMs, idleTimeoutMs),
      idleTimeoutMs,
      keys.indexPrefix(parsed.tag),
    ],
  )
  if (reply === 0) counters.expirations++
  if (!reply) {
    if (trace) trace.outcome = reply === 0 ? 'expired' : 'missing'
    return null
  }
  counters.rotations++
  if (trace) trace.outcome = 'rotated'
  const session = context.toSession(next.parsed.publicId, reply, 'rotate')
  return session ? { token: next.token, session } : null
}
