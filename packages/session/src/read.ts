import type { StoreContext } from './store-context.js'
import type { ParsedToken } from './token.js'
import type { Session, SessionData } from './types.js'

/** What a read found: a session, nothing (null), or a dead session it removed just now (0). */
export type ReadResult<TData extends SessionData> = Session<TData> | null | 0

/**
 * One session-get call. Written without async/await: each await layer costs client CPU on the
 * hottest call.
 */
export function readSession<TData extends SessionData>(
  context: StoreContext<TData>,
  parsed: ParsedToken,
  operation: string,
): Promise<ReadResult<TData>> {
  const { counters } = context
  // scriptThen: one promise per read, answered in place (core's deadline, writes coalesced per tick).
  return context.caller.scriptThen(
    context.sessionGet,
    [context.keys.session(parsed.tag, parsed.id)],
    [parsed.digest],
    (reply): ReadResult<TData> => {
      if (reply === 0) {
        counters.expirations++
        counters.misses++
        return 0
      }
      const session = reply === null ? null : context.toSession(parsed.publicId, reply, operation)
      if (session) counters.hits++
      else counters.misses++
      return session
    },
    context.countFailure,
  )
}
