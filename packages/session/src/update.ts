import { assertPositive, type BackoffOptions, backoffDelay } from '@x/redis-core'
import { assertRecord, decodeData, encodeData } from './data-encoding.js'
import { SessionConflictError } from './errors.js'
import { readSession } from './read.js'
import { sessionUpdate } from './scripts/session-update.lua.js'
import type { StoreContext } from './store-context.js'
import { parseToken } from './token.js'
import type { SessionTraceContext } from './trace-context.js'
import type { Session, SessionChange, SessionData, UpdateOptions } from './types.js'

const RETRY_BACKOFF: BackoffOptions = { initialMs: 1, maxMs: 50, jitter: 'full' }

export async function updateSession<TData extends SessionData>(
  context: StoreContext<TData>,
  token: string,
  change: SessionChange<TData>,
  options: UpdateOptions = {},
  trace?: SessionTraceContext,
): Promise<Session<TData> | null> {
  if (typeof change !== 'function') assertRecord(change, 'update patch')
  const retries = assertPositive('retries', options.retries ?? context.options.updateRetries, {
    allowZero: true,
    integer: true,
  })
  const parsed = parseToken(token)
  if (!parsed) {
    if (trace) trace.outcome = 'missing'
    return null
  }
  if (trace) trace.sessionId = parsed.publicId
  const { codec, maxDataBytes, idleTimeoutMs } = context.options
  const { keys, counters } = context
  const conflict = (message: string, reason: 'contended' | 'rotated') => {
    counters.conflicts++
    if (trace) trace.outcome = 'conflict'
    return new SessionConflictError(message, { sessionId: parsed.publicId, reason })
  }
  return context.serialize(parsed.publicId, async () => {
    for (let attempt = 0; ; attempt++) {
      if (trace) {
        trace.attempts = attempt + 1
        trace.roundTrips++
      }
      const current = await readSession(context, parsed, 'update')
      if (!current) {
        if (trace) trace.outcome = current === 0 ? 'expired' : 'missing'
        return null
      }
      if (current.rotated) throw conflict('this token was rotated; update through the new token', 'rotated')
      const next =
        typeof change === 'function' ? await change(current.data) : applyPatch(current.data, change)
      const encoded = encodeData(codec, next, maxDataBytes)
      if (trace) trace.roundTrips++
      const reply = await context.script(
        sessionUpdate,
        [keys.session(parsed.tag, parsed.id)],
        [parsed.digest, current.version, encoded, idleTimeoutMs, parsed.id, keys.indexPrefix(parsed.tag)],
      )
      // Statuses: see session-update's header.
      if (reply[0] === 1) {
        const [, version, lastAccess] = reply
        counters.updates++
        if (trace) trace.outcome = 'updated'
        return {
          ...current,
          data: decodeData<TData>(codec, encoded),
          version,
          lastAccess,
          idleExpiresAt: Math.min(lastAccess + idleTimeoutMs, current.absoluteExpiresAt),
        }
      }
      if (reply[0] === 0) {
        if (trace) trace.outcome = 'missing'
        return null
      }
      if (reply[0] === 3) throw conflict('this token was rotated; update through the new token', 'rotated')
      if (attempt >= retries) {
        throw conflict(
          `session ${parsed.publicId} was changed concurrently ${attempt + 1} times; the update was not applied`,
          'contended',
        )
      }
      // Another process won the race: back off a little, with jitter, so retries spread out.
      await sleep(backoffDelay(attempt, RETRY_BACKOFF))
    }
  })
}

function applyPatch<TData extends SessionData>(current: TData, patch: Partial<TData>): TData {
  const next: Record<string, unknown> = { ...current }
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) delete next[key]
    else next[key] = value
  }
  return next as TData
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
