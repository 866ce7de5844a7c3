import type { Codec, RedisClient } from '@x/redis-core'

/** What express-session hands a store: a plain object with a `cookie`. */
export type ExpressSessionData = Record<string, unknown> & {
  cookie?: { expires?: Date | string | null; maxAge?: number | null; originalMaxAge?: number | null }
}

export type Callback<T = unknown> = (error?: unknown, value?: T) => void

export interface ExpressSessionStoreOptions {
  redis: RedisClient
  /**
   * Key prefix: `prefix:{digest}:s` per session, `prefix:u:<userId>` per user index.
   * @default 'sess'
   */
  prefix?: string
  /**
   * Lifetime in ms of a session whose cookie has no `maxAge`/`expires`.
   * @default 86_400_000 (1 day, as connect-redis)
   */
  ttlMs?: number
  /**
   * How long in ms a destroyed session id stays blocked, so a request that was in flight during
   * the logout cannot save the session back. Longer than your slowest request.
   * @default 3_600_000 (1 hour)
   */
  tombstoneTtlMs?: number
  /**
   * The user a session belongs to, for `destroyForUser` ("log out everywhere").
   * @default session.userId when it is a string or a number
   */
  userIdOf?: (session: ExpressSessionData) => string | undefined
  /** @default jsonCodec */
  codec?: Codec
  /** Largest encoded session in bytes; larger saves fail with SessionDataTooLargeError. @default 65_536 */
  maxDataBytes?: number
  /**
   * Milliseconds each Redis call may take before it rejects with `TimeoutError`, whatever the
   * client's own `commandTimeout` is.
   * @default 1000
   */
  redisTimeoutMs?: number
}

/**
 * The store's `error` event (it is an EventEmitter, as every express-session store): corrupt
 * sessions found by `get`/`all`, which treat them as missing. `key` is the stored id (a digest).
 */
export interface ExpressSessionStoreErrorEvent {
  operation: string
  error: Error
  key?: string
}

/** The methods express-session calls, plus the extras connect-redis users expect, plus revoke-all. */
export interface ExpressSessionStoreMethods {
  get(sid: string, callback?: Callback<ExpressSessionData | null>): Promise<ExpressSessionData | null>
  set(sid: string, session: ExpressSessionData, callback?: Callback<void>): Promise<void>
  touch(sid: string, session: ExpressSessionData, callback?: Callback<void>): Promise<void>
  destroy(sid: string, callback?: Callback<void>): Promise<void>
  /** Deletes every session and tombstone under the prefix (SCAN + UNLINK on every master). */
  clear(callback?: Callback<void>): Promise<void>
  /** Number of stored sessions (SCAN on every master). */
  length(callback?: Callback<number>): Promise<number>
  /** Stored ids: SHA-256 digests of the session ids, which are never stored themselves. */
  ids(callback?: Callback<string[]>): Promise<string[]>
  /** Every stored session, with `id` set to its stored id (see `ids`). */
  all(callback?: Callback<ExpressSessionData[]>): Promise<ExpressSessionData[]>
  /**
   * Destroys every session of a user saved before this call started, except the session id
   * `except` (the current request's `req.sessionID`). Returns how many were destroyed. Rejects
   * with `InvalidArgumentError` when `userId` is not a non-empty string (nobody signed in).
   */
  destroyForUser(userId: string, options?: { except?: string }): Promise<number>
  /** Counters since the store was created; no Redis call. */
  stats(): { redisErrors: number; timeouts: number }
}
