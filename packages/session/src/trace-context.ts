/**
 * What a session operation publishes on its tracing channel (`x:session:<operation>`): names and
 * outcomes, never a token, a secret or session data.
 */
export interface SessionTraceContext {
  /** The session's public id (`tag.id`, safe to log), when the operation names one session. */
  sessionId?: string
  /** What happened; see `SessionOutcome`. */
  outcome?: SessionOutcome
  /** Redis calls made. */
  roundTrips: number
  /** Sessions listed or destroyed (listForUser, destroyForUser). */
  count?: number
  /** Compare-and-set attempts (update). */
  attempts?: number
}

/**
 * - `created`: create made a session.
 * - `found`: get/update read a live session through its current token.
 * - `rotated`: get read through the old token of a rotation, in its grace; rotate made a new token.
 * - `expired`: the session was dead (idle or absolute timeout, or a broken record) and is removed.
 * - `missing`: no such session (unknown, destroyed, forged or malformed token).
 * - `updated`, `conflict`: update wrote, or gave up (`SessionConflictError`).
 * - `destroyed`: destroy, destroyById or destroyForUser removed sessions.
 * - `listed`: listForUser answered.
 */
export type SessionOutcome =
  | 'created'
  | 'found'
  | 'rotated'
  | 'expired'
  | 'missing'
  | 'updated'
  | 'conflict'
  | 'destroyed'
  | 'listed'
