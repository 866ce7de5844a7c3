import { createHash } from 'node:crypto'
import type { EventEmitter } from 'node:events'
import {
  assertDuration,
  assertPositive,
  assertRedisClient,
  createEmitter,
  createRedisCaller,
  InvalidArgumentError,
  jsonCodec,
  keyspace,
  type Script,
  type ScriptArg,
  scanKeys,
  TimeoutError,
  unlinkByPattern,
} from '@x/redis-core'
import { decodeData, encodeData } from './data-encoding.js'
import { settle } from './express-callback.js'
import type {
  ExpressSessionData,
  ExpressSessionStoreErrorEvent,
  ExpressSessionStoreMethods,
  ExpressSessionStoreOptions,
} from './express-store-types.js'
import { assertNoRenamedOptions } from './options.js'
import { expressDestroy } from './scripts/express-destroy.lua.js'
import { expressIndexAdd } from './scripts/express-index-add.lua.js'
import { expressSet } from './scripts/express-set.lua.js'

export type {
  ExpressSessionData,
  ExpressSessionStoreErrorEvent,
  ExpressSessionStoreMethods,
  ExpressSessionStoreOptions,
} from './express-store-types.js'

/**
 * An express-session store on ioredis (a drop-in for connect-redis, which dropped ioredis). Pass
 * the express-session module so the store extends its `Store` class without this package
 * depending on express-session:
 *
 * ```ts
 * import session from 'express-session'
 * app.use(session({ store: createExpressSessionStore(session, { redis }), secret, resave: false, saveUninitialized: false }))
 * ```
 *
 * Session ids are stored as SHA-256 digests: a dump of Redis holds no usable session id.
 */
export function createExpressSessionStore<TStore extends abstract new (...args: never[]) => object>(
  expressSession: { Store: TStore },
  options: ExpressSessionStoreOptions,
): InstanceType<TStore> & ExpressSessionStoreMethods {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(
      'createExpressSessionStore takes the express-session module and an options object',
    )
  }
  assertNoRenamedOptions(options, RENAMED)
  const { redis } = options
  assertRedisClient(redis, 'redis')
  if (typeof expressSession?.Store !== 'function') {
    throw new InvalidArgumentError('pass the express-session module (or an object with its Store class)')
  }
  const keys = keyspace(options.prefix ?? 'sess')
  const ttl = Math.floor(assertDuration('ttlMs', options.ttlMs ?? 86_400_000, { max: MAX_LIFETIME_MS }))
  const tombstoneTtl = Math.floor(
    assertDuration('tombstoneTtlMs', options.tombstoneTtlMs ?? 3_600_000, { max: MAX_LIFETIME_MS }),
  )
  const maxDataBytes = assertPositive('maxDataBytes', options.maxDataBytes ?? 65_536, { integer: true })
  const timeout = assertDuration('redisTimeoutMs', options.redisTimeoutMs ?? 1000)
  const codec = options.codec ?? jsonCodec
  const userIdOf = options.userIdOf ?? defaultUserIdOf
  const counters = { redisErrors: 0, timeouts: 0 }

  const digest = (sid: string) => {
    if (typeof sid !== 'string' || sid.length === 0)
      throw new InvalidArgumentError('session id must be a string')
    return createHash('sha256').update(sid).digest('base64url')
  }
  const sessionKey = (d: string) => keys.tagged(d, 's')
  const tombstoneKey = (d: string) => keys.tagged(d, 't')
  const indexKey = (userId: string) => keys.key('u', userId)
  const sessionPattern = `${keys.pattern().slice(0, -1)}{*}:s`
  const caller = createRedisCaller(redis, { timeoutMs: timeout })
  const countFailure = (error: unknown): never => {
    counters.redisErrors++
    if (TimeoutError.isInstance(error)) counters.timeouts++
    throw error
  }
  /** A command (or a few) under the store's deadline, errors mapped and counted. */
  const call = <T>(what: string, command: () => Promise<T>): Promise<T> =>
    caller.run(command, what).catch(countFailure)
  const script = <R, K extends readonly string[], A extends readonly ScriptArg[]>(
    definition: Script<R, K, A>,
    keys: K,
    args: A,
  ): Promise<R> =>
    (caller.script as (s: typeof definition, k: K, a: A) => Promise<R>)(definition, keys, args).catch(
      countFailure,
    )
  let store: EventEmitter | undefined
  // Nobody listening: core's default (one console.error line per operation and code every 10 s).
  const unheard = createEmitter<{ error: ExpressSessionStoreErrorEvent }>({ name: '@x/session' })
  const report = (error: Error, operation: string, key: string) => {
    const payload: ExpressSessionStoreErrorEvent = { operation, error, key }
    // An EventEmitter throws an 'error' nobody listens to: emit only to listeners.
    if (!store || store.listenerCount('error') === 0) return unheard.emit('error', payload)
    try {
      store.emit('error', payload)
    } catch {
      // A throwing listener must not fail the read that reported.
    }
  }

  const ttlOf = (session: ExpressSessionData): number => {
    const cookie = session.cookie
    if (cookie?.expires) {
      // The cookie's expiry is an absolute time chosen by the app server; nothing better exists.
      return new Date(cookie.expires).getTime() - Date.now()
    }
    if (typeof cookie?.maxAge === 'number') return cookie.maxAge
    return ttl
  }

  const decode = (raw: string, operation: string, key: string): ExpressSessionData | null => {
    try {
      return decodeData<ExpressSessionData>(codec, raw)
    } catch (error) {
      report(error as Error, operation, key)
      return null
    }
  }

  const index = async (session: ExpressSessionData, d: string, lifetime: number) => {
    const userId = userIdOf(session)
    if (userId === undefined) return
    await script(expressIndexAdd, [indexKey(userId)], [d, Math.ceil(lifetime)])
  }

  const methods: ExpressSessionStoreMethods = {
    get: (sid, callback) =>
      settle(callback, async () => {
        const d = digest(sid)
        const raw = await call('GET', () => redis.get(sessionKey(d)))
        return raw === null ? null : decode(raw, 'get', d)
      }),

    set: (sid, session, callback) =>
      settle(callback, async () => {
        const d = digest(sid)
        const lifetime = ttlOf(session)
        if (!(lifetime > 0)) {
          await methods.destroy(sid)
          return
        }
        // express-session hands a Session class instance; its own enumerable fields are the data.
        const encoded = encodeData(codec, { ...session }, maxDataBytes)
        // Index first: a session that exists is always findable by destroyForUser.
        await index(session, d, lifetime)
        await script(expressSet, [sessionKey(d), tombstoneKey(d)], [encoded, Math.ceil(lifetime)])
      }),

    touch: (sid, session, callback) =>
      settle(callback, async () => {
        const d = digest(sid)
        const lifetime = ttlOf(session)
        if (!(lifetime > 0)) return
        await index(session, d, lifetime)
        // PEXPIRE never creates a key: touching a destroyed session changes nothing.
        await call('PEXPIRE', () => redis.pexpire(sessionKey(d), Math.ceil(lifetime)))
      }),

    destroy: (sid, callback) =>
      settle(callback, async () => {
        const d = digest(sid)
        await script(expressDestroy, [sessionKey(d), tombstoneKey(d)], [tombstoneTtl])
      }),

    clear: (callback) =>
      settle(callback, async () => {
        await call('clear', () => unlinkByPattern(redis, { match: keys.pattern(), timeoutMs: timeout }))
      }),

    length: (callback) =>
      settle(callback, async () => {
        let count = 0
        for await (const batch of scanKeys(redis, { match: sessionPattern, timeoutMs: timeout }))
          count += batch.length
        return count
      }),

    ids: (callback) =>
      settle(callback, async () => {
        const ids: string[] = []
        for await (const batch of scanKeys(redis, { match: sessionPattern, timeoutMs: timeout })) {
          for (const key of batch) ids.push(key.slice(key.lastIndexOf('{') + 1, key.lastIndexOf('}')))
        }
        return ids
      }),

    all: (callback) =>
      settle(callback, async () => {
        const sessions: ExpressSessionData[] = []
        for await (const batch of scanKeys(redis, { match: sessionPattern, timeoutMs: timeout })) {
          const values = await call('GET', () => Promise.all(batch.map((key) => redis.get(key))))
          values.forEach((raw, position) => {
            if (raw === null) return
            const key = batch[position]!
            const id = key.slice(key.lastIndexOf('{') + 1, key.lastIndexOf('}'))
            const session = decode(raw, 'all', id)
            if (session) sessions.push({ ...session, id })
          })
        }
        return sessions
      }),

    async destroyForUser(userId, destroyOptions = {}) {
      if (typeof userId !== 'string' || userId.length === 0) {
        throw new InvalidArgumentError(
          `destroyForUser needs the user id of a signed-in user, got ${userId === '' ? 'an empty string' : typeof userId}`,
        )
      }
      const key = indexKey(userId)
      const keep = destroyOptions.except === undefined ? null : digest(destroyOptions.except)
      const members = (await call('ZRANGE', () => redis.zrange(key, '0', '-1'))).filter((d) => d !== keep)
      if (members.length === 0) return 0
      const results = await call('session:express-destroy', () =>
        expressDestroy.runMany(
          redis,
          members.map((d) => ({ keys: [sessionKey(d), tombstoneKey(d)], args: [tombstoneTtl] })),
        ),
      )
      const failed = results.find((result) => result instanceof Error)
      if (failed) throw failed
      await call('ZREM', () => redis.zrem(key, ...members))
      return results.reduce<number>((sum, result) => sum + Number(result), 0)
    },

    stats: () => ({ ...counters }),
  }

  const Base = expressSession.Store as unknown as new () => EventEmitter
  const instance = new Base()
  store = instance
  Object.assign(instance, methods)
  return instance as unknown as InstanceType<TStore> & ExpressSessionStoreMethods
}

// Lifetimes are Redis expiries, not timers: up to 10 years.
const MAX_LIFETIME_MS = 3650 * 86_400_000

const RENAMED: Record<string, string> = {
  ttl: 'ttlMs',
  tombstoneTtl: 'tombstoneTtlMs',
  timeout: 'redisTimeoutMs',
  onError: "the store's 'error' event (store.on('error', listener))",
}

function defaultUserIdOf(session: ExpressSessionData): string | undefined {
  const value = session.userId
  if (typeof value === 'string' && value.length > 0) return value
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  return undefined
}
