import {
  createEmitter,
  createRedisCaller,
  DecodeError,
  type Emitter,
  type RedisCaller,
  type RedisClient,
  type Script,
  type ScriptArg,
  TimeoutError,
} from '@x/redis-core'
import { decodeData } from './data-encoding.js'
import { type SessionKeys, sessionKeys } from './keys.js'
import type { ResolvedStoreOptions } from './options.js'
import { sessionGetScript } from './scripts/session-get.lua.js'
import { createSerialQueue } from './serial-queue.js'
import { type PackedSession, unpackSession } from './session-reply.js'
import type { Session, SessionData, SessionStoreEvents, SessionStoreStats } from './types.js'

/** What every operation of one store shares: options, keys, the Redis call path, counters, events. */
export interface StoreContext<TData extends SessionData> {
  readonly options: ResolvedStoreOptions
  readonly redis: RedisClient
  readonly keys: SessionKeys
  /** Core's call path with the store's deadline (`redisTimeoutMs`), for the hot path's `scriptThen`. */
  readonly caller: RedisCaller
  /** A script through the store's call path: deadline, NOSCRIPT handled, typed errors, counted. */
  script<R, K extends readonly string[], A extends readonly ScriptArg[]>(
    script: Script<R, K, A>,
    keys: K,
    args: A,
  ): Promise<R>
  /** Counts a failed Redis call (`redisErrors`, `timeouts`) and rethrows it. */
  countFailure(error: unknown): never
  /** session-get with this store's timeouts written in. */
  readonly sessionGet: ReturnType<typeof sessionGetScript>
  /** Per-session queue of this process's updates. */
  readonly serialize: <T>(name: string, task: () => Promise<T>) => Promise<T>
  readonly counters: SessionStoreStats
  readonly events: Emitter<SessionStoreEvents>
  /** Reports a problem that is not thrown (the `error` event). */
  report(operation: string, error: Error, sessionId?: string): void
  /**
   * A session from session-get's or session-rotate's packed reply, or null (reported) when the
   * reply or the stored data is corrupt.
   */
  toSession(publicId: string, reply: string, operation: string): Session<TData> | null
}

export function createStoreContext<TData extends SessionData>(
  options: ResolvedStoreOptions,
): StoreContext<TData> {
  const { redis, idleTimeoutMs, codec } = options
  const counters: SessionStoreStats = {
    creates: 0,
    hits: 0,
    misses: 0,
    expirations: 0,
    updates: 0,
    conflicts: 0,
    rotations: 0,
    destroys: 0,
    redisErrors: 0,
    timeouts: 0,
  }
  const events = createEmitter<SessionStoreEvents>({ name: '@x/session' })
  // Writes of one tick coalesced (core's default): on get at c=64 it cut the client CPU per read by
  // about a quarter and the Redis CPU a little; the ops/s of single rounds vary far more than that
  // on a shared machine.
  const caller = createRedisCaller(redis, { timeoutMs: options.redisTimeoutMs })
  const countFailure = (error: unknown): never => {
    counters.redisErrors++
    if (TimeoutError.isInstance(error)) counters.timeouts++
    throw error
  }
  // With nobody listening, core's emitter prints one line per operation and code every 10 s.
  const report = (operation: string, error: Error, sessionId?: string) => {
    events.emit(
      'error',
      sessionId === undefined ? { operation, error } : { operation, error, key: sessionId },
    )
  }

  const fromPacked = (publicId: string, packed: PackedSession, operation: string): Session<TData> | null => {
    let data: TData
    try {
      data = decodeData<TData>(codec, packed.data)
    } catch (error) {
      report(operation, error as Error, publicId)
      return null
    }
    return {
      id: publicId,
      userId: packed.userId,
      data,
      createdAt: packed.createdAt,
      lastAccess: packed.lastAccess,
      absoluteExpiresAt: packed.absoluteExpiresAt,
      idleExpiresAt: Math.min(packed.lastAccess + idleTimeoutMs, packed.absoluteExpiresAt),
      version: packed.version,
      rotated: packed.readOnly,
    }
  }

  return {
    options,
    redis,
    keys: sessionKeys(options.prefix),
    caller,
    script: (script, keys, args) =>
      (caller.script as (s: typeof script, k: typeof keys, a: typeof args) => Promise<never>)(
        script,
        keys,
        args,
      ).catch(countFailure),
    countFailure,
    sessionGet: sessionGetScript(idleTimeoutMs, options.touchIntervalMs),
    serialize: createSerialQueue(),
    counters,
    events,
    report,
    toSession(publicId, reply, operation) {
      const packed = unpackSession(reply)
      if (packed) return fromPacked(publicId, packed, operation)
      report(operation, new DecodeError(`session-${operation} returned a malformed reply`), publicId)
      return null
    },
  }
}
