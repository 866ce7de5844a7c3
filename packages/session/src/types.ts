export type SessionData = Record<string, unknown>

export interface DeviceInfo {
  /** The User-Agent header; cut to 512 characters. */
  userAgent?: string
  /** The client address; cut to 64 characters. */
  ip?: string
  /** A name the user gave the device ("work laptop"); cut to 128 characters. */
  label?: string
}

export interface Session<TData extends SessionData = SessionData> {
  /** Public id (`tag.id`): safe to log and to show; it cannot authenticate. */
  id: string
  userId: string
  data: TData
  /** Server clock, ms. */
  createdAt: number
  /** Last activity seen, ms (accurate to `touchIntervalMs`). */
  lastAccess: number
  /** When the session dies whatever happens, ms. */
  absoluteExpiresAt: number
  /** When the session dies without further activity, ms. */
  idleExpiresAt: number
  /** Incremented by every write of the data. */
  version: number
  /**
   * True when read through the old token of a rotation during its grace period: the data is the
   * copy taken at rotation, and `update` through this token is refused.
   */
  rotated: boolean
}

export interface SessionInfo {
  /** Public id, for `destroyById`. */
  id: string
  createdAt: number
  /** Last activity seen, ms (accurate to `touchIntervalMs`). */
  lastSeen: number
  idleExpiresAt: number
  absoluteExpiresAt: number
  device: DeviceInfo
  /** True for the session of the token passed as `current`. */
  current: boolean
}

export interface CreateOptions {
  device?: DeviceInfo
}

export interface RotateOptions {
  /**
   * Milliseconds during which the old token still reads the session (as of the rotation), for
   * requests already in flight with the old cookie: they keep working instead of failing as
   * logged out. The old token is read-only meanwhile. 0: the old token dies at once.
   * @default 10_000
   */
  graceMs?: number
}

export interface UpdateOptions {
  /** Overrides the store's `updateRetries` for this call. */
  retries?: number
}

export interface DestroyForUserOptions {
  /** A token of this user whose session survives ("log out everywhere else"). */
  except?: string
}

export interface ListForUserOptions {
  /** The caller's token: its session is marked `current: true`. */
  current?: string
}

/** A shallow patch (a key set to `undefined` is removed) or a function of the current data. */
export type SessionChange<TData extends SessionData> =
  | Partial<TData>
  | ((current: TData) => TData | Promise<TData>)

/** Events of a session store, for `store.on(event, listener)`. */
export type SessionStoreEvents = {
  /**
   * A problem that cannot be thrown to a caller: corrupt session data found by a read (which then
   * returns null). `key` is the session's public id, never a token.
   */
  error: { operation: string; error: Error; key?: string }
}

/** Counters since the store was created; no Redis call. */
export interface SessionStoreStats {
  /** Sessions created. */
  creates: number
  /** `get` calls that found a live session (through its current token or a rotated one in grace). */
  hits: number
  /** `get` calls that found nothing: unknown, forged, destroyed or expired. */
  misses: number
  /** Sessions found dead (idle or absolute timeout, or a broken record) and removed by a read. */
  expirations: number
  /** Updates written. */
  updates: number
  /** Updates that lost every compare-and-set attempt or targeted a rotated token. */
  conflicts: number
  /** Rotations done. */
  rotations: number
  /** Sessions destroyed by `destroy`, `destroyById` and `destroyForUser`. */
  destroys: number
  /** Redis calls that failed (timeouts included). */
  redisErrors: number
  /** Redis calls that gave up after `redisTimeoutMs`. */
  timeouts: number
}

export interface SessionStore<TData extends SessionData = SessionData> {
  /** Creates a session; the token goes to the client (cookie), never into logs. */
  create(
    userId: string,
    data: TData,
    options?: CreateOptions,
  ): Promise<{ token: string; session: Session<TData> }>
  /** The session, or null for a missing, expired, destroyed, forged or malformed token. */
  get(token: string): Promise<Session<TData> | null>
  /** Atomic update; null when the session does not exist. Rejects with `SessionConflictError` when it cannot win. */
  update(token: string, change: SessionChange<TData>, options?: UpdateOptions): Promise<Session<TData> | null>
  /** A new token for the same session; null when the token is not valid. */
  rotate(token: string, options?: RotateOptions): Promise<{ token: string; session: Session<TData> } | null>
  /** Destroys the session of a token (logout). True when one was destroyed. */
  destroy(token: string): Promise<boolean>
  /** Destroys one of a user's sessions by its public id (revoking a device from the list). */
  destroyById(userId: string, sessionId: string): Promise<boolean>
  /** The user's live sessions, oldest first by expiry. */
  listForUser(userId: string, options?: ListForUserOptions): Promise<SessionInfo[]>
  /** Destroys all the user's sessions (but `except`), atomically. Returns how many. */
  destroyForUser(userId: string, options?: DestroyForUserOptions): Promise<number>
  /** Adds an event listener; returns a function that removes it. */
  on<E extends keyof SessionStoreEvents>(
    event: E,
    listener: (payload: SessionStoreEvents[E]) => void,
  ): () => void
  /** A fresh copy of the counters. */
  stats(): SessionStoreStats
}
