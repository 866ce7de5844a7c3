import {
  assertName,
  assertPositive,
  type Codec,
  DecodeError,
  InvalidArgumentError,
  jsonCodec,
  type Keyspace,
  keyspace,
  type RedisClient,
} from '@x/redis-core'
import { assertRecord, decodeData, encodeData, isRecord } from './data-encoding.js'
import { SessionConflictError } from './errors.js'
import { createRedisCaller } from './redis-caller.js'
import { sessionCreate } from './scripts/session-create.lua.js'
import { sessionDestroy } from './scripts/session-destroy.lua.js'
import { sessionGetScript } from './scripts/session-get.lua.js'
import { sessionRotate } from './scripts/session-rotate.lua.js'
import { sessionUpdate } from './scripts/session-update.lua.js'
import { userDestroy } from './scripts/user-destroy.lua.js'
import { userList } from './scripts/user-list.lua.js'
import {
  generateToken,
  generateTokenForTag,
  type ParsedToken,
  parsePublicId,
  parseToken,
  SECRET_BYTES_RANGE,
  tagFor,
} from './token.js'

export type SessionData = Record<string, unknown>

export interface SessionStoreOptions {
  /** An ioredis `Redis` or `Cluster` (from `createRedis` or your own). */
  redis: RedisClient
  /**
   * Key prefix. Keys are `prefix:{tag}:s:<id>` (a session) and `prefix:{tag}:u:<userId>` (a
   * user's index), where `tag` is a short hash of the user id.
   * @default 'session'
   */
  prefix?: string
  /**
   * Milliseconds without activity after which a session dies.
   * @default 604_800_000 (7 days)
   */
  idleTimeout?: number
  /**
   * Milliseconds after creation after which a session dies, however active it is. Rotation keeps
   * the original creation time.
   * @default 2_592_000_000 (30 days)
   */
  absoluteTimeout?: number
  /**
   * A read slides the idle expiry only when the last slide is at least this old, so most reads
   * write nothing. `lastAccess` is accurate to this interval. Must be less than `idleTimeout`.
   * @default 60_000, or idleTimeout / 2 when that is smaller
   */
  touchInterval?: number
  /** How session data becomes bytes. @default jsonCodec */
  codec?: Codec
  /**
   * Random bytes in the secret part of a token (16 to 64).
   * @default 32
   */
  tokenBytes?: number
  /**
   * Largest encoded session data, in bytes. Larger data is refused with
   * `SessionDataTooLargeError` and nothing is written.
   * @default 65_536
   */
  maxDataBytes?: number
  /**
   * Most live sessions per user. A login beyond it evicts the user's sessions closest to expiry.
   * It also bounds the work of `listForUser` and `destroyForUser`, which are single atomic steps.
   * @default 1000
   */
  maxSessionsPerUser?: number
  /**
   * How often `update` re-reads and retries after losing a compare-and-set race to another
   * process before it throws `SessionConflictError`. Updates of one token inside one store never
   * race: they are queued.
   * @default 8
   */
  updateRetries?: number
  /**
   * Milliseconds each Redis call may take before it fails with `TimeoutError`.
   * @default 2000
   */
  timeout?: number
  /**
   * Problems that are not thrown at the caller: corrupt session data found by a read (which then
   * returns null). @default ignored
   */
  onError?: (error: unknown, context: { operation: string; sessionId?: string }) => void
}

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
  /** Last activity seen, ms (accurate to `touchInterval`). */
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
  /** Last activity seen, ms (accurate to `touchInterval`). */
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

/** A shallow patch (a key set to `undefined` is removed) or a function of the current data. */
export type SessionChange<TData extends SessionData> =
  | Partial<TData>
  | ((current: TData) => TData | Promise<TData>)

export interface SessionStore<TData extends SessionData = SessionData> {
  /** Creates a session; the token goes to the client (cookie), never into logs. */
  create(
    userId: string,
    data: TData,
    options?: CreateOptions,
  ): Promise<{ token: string; session: Session<TData> }>
  /** The session, or null for a missing, expired, destroyed, forged or malformed token. */
  get(token: string): Promise<Session<TData> | null>
  /** Atomic update; null when the session does not exist. Throws `SessionConflictError` when it cannot win. */
  update(token: string, change: SessionChange<TData>, options?: UpdateOptions): Promise<Session<TData> | null>
  /** A new token for the same session; null when the token is not valid. */
  rotate(token: string, options?: RotateOptions): Promise<{ token: string; session: Session<TData> } | null>
  /** Destroys the session of a token (logout). True when one was destroyed. */
  destroy(token: string): Promise<boolean>
  /** Destroys one of a user's sessions by its public id (revoking a device from the list). */
  destroyById(userId: string, sessionId: string): Promise<boolean>
  /** The user's live sessions, oldest first by expiry. */
  listForUser(userId: string, options?: { current?: string }): Promise<SessionInfo[]>
  /** Destroys all the user's sessions (but `except`), atomically. Returns how many. */
  destroyForUser(userId: string, options?: DestroyForUserOptions): Promise<number>
}

const DAY = 86_400_000
// Long enough for requests already in flight with the old cookie, short enough to leave a stolen old token little use.
const DEFAULT_ROTATE_GRACE_MS = 10_000
const DEVICE_LIMITS = { userAgent: 512, ip: 64, label: 128 } as const

/**
 * Server-side sessions on Redis. A token is `tag.id.secret`: Redis stores only the SHA-256 of the
 * secret, every operation is one Lua script on one hash slot, and times come from the Redis clock.
 */
export function createSessionStore<TData extends SessionData = SessionData>(
  options: SessionStoreOptions,
): SessionStore<TData> {
  const redis = options.redis
  if (!redis || typeof (redis as { evalsha?: unknown }).evalsha !== 'function') {
    throw new InvalidArgumentError('redis must be an ioredis Redis or Cluster client')
  }
  const keys: Keyspace = keyspace(options.prefix ?? 'session')
  const idleTimeout = assertPositive('idleTimeout', options.idleTimeout ?? 7 * DAY, { integer: true })
  const absoluteTimeout = assertPositive('absoluteTimeout', options.absoluteTimeout ?? 30 * DAY, {
    integer: true,
  })
  const touchInterval = assertPositive(
    'touchInterval',
    options.touchInterval ?? Math.min(60_000, Math.floor(idleTimeout / 2)),
    { allowZero: true, integer: true },
  )
  if (touchInterval >= idleTimeout) {
    throw new InvalidArgumentError(
      `touchInterval (${touchInterval}) must be less than idleTimeout (${idleTimeout})`,
    )
  }
  const tokenBytes = assertPositive('tokenBytes', options.tokenBytes ?? 32, { integer: true })
  if (tokenBytes < SECRET_BYTES_RANGE.min || tokenBytes > SECRET_BYTES_RANGE.max) {
    throw new InvalidArgumentError(
      `tokenBytes must be between ${SECRET_BYTES_RANGE.min} and ${SECRET_BYTES_RANGE.max}, got ${tokenBytes}`,
    )
  }
  const maxDataBytes = assertPositive('maxDataBytes', options.maxDataBytes ?? 65_536, { integer: true })
  const maxSessionsPerUser = assertPositive('maxSessionsPerUser', options.maxSessionsPerUser ?? 1000, {
    integer: true,
  })
  const defaultRetries = assertPositive('updateRetries', options.updateRetries ?? 8, {
    allowZero: true,
    integer: true,
  })
  const timeout = assertPositive('timeout', options.timeout ?? 2000)
  const codec = options.codec ?? jsonCodec
  const onError = options.onError ?? (() => {})

  // Tags and ids come from generateToken or passed parseToken's base64url check, so the hot path
  // builds keys by concatenation instead of re-validating them through the keyspace.
  const sessionKeyPrefix = (tag: string) => `${keys.prefix}:{${tag}}:s:`
  const sessionKey = (tag: string, id: string) => sessionKeyPrefix(tag) + id
  const indexKey = (userId: string) => keys.tagged(tagFor(userId), 'u', userId)
  const indexKeyPrefix = (tag: string) => `${keys.prefix}:{${tag}}:u:`
  const call = createRedisCaller(redis, timeout, 'session')
  const sessionGet = sessionGetScript(idleTimeout, touchInterval)
  const report = (error: unknown, operation: string, sessionId?: string) => {
    try {
      onError(error, { operation, sessionId })
    } catch {
      // A throwing hook must not turn a reported problem into a failed read.
    }
  }

  const queues = new Map<string, Promise<unknown>>()
  // Updates of one session inside this process run one after another, so they never conflict
  // with each other; the compare-and-set in Redis covers other processes.
  const serialize = <T>(id: string, task: () => Promise<T>): Promise<T> => {
    const previous = queues.get(id) ?? Promise.resolve()
    const run = previous.then(task, task)
    const settled = run.then(
      () => {},
      () => {},
    )
    queues.set(id, settled)
    void settled.then(() => {
      if (queues.get(id) === settled) queues.delete(id)
    })
    return run
  }

  const checkUserId = (userId: unknown): string => assertName('userId', userId, 512)

  const toSession = (
    parsed: { publicId: string },
    reply: readonly [unknown, unknown, unknown, unknown, unknown, unknown, ...unknown[]],
    rotated: boolean,
    operation: string,
  ): Session<TData> | null => {
    const [data, userId, createdAt, lastAccess, absoluteExpiresAt, version] = reply
    let decoded: TData
    try {
      decoded = decodeData<TData>(codec, String(data))
    } catch (error) {
      report(error, operation, parsed.publicId)
      return null
    }
    const last = Number(lastAccess)
    const absolute = Number(absoluteExpiresAt)
    return {
      id: parsed.publicId,
      userId: String(userId),
      data: decoded,
      createdAt: Number(createdAt),
      lastAccess: last,
      absoluteExpiresAt: absolute,
      idleExpiresAt: Math.min(last + idleTimeout, absolute),
      version: Number(version),
      rotated,
    }
  }

  // Written with .then instead of async/await: each await layer costs client CPU on the hottest call.
  const read = (parsed: ParsedToken, operation: string): Promise<Session<TData> | null> =>
    call(operation, sessionGet.run(redis, [sessionKey(parsed.tag, parsed.id)], [parsed.digest])).then(
      (reply) => {
        if (reply === null || reply === undefined) return null
        const fields = splitGetReply(String(reply))
        if (!fields) {
          report(new DecodeError('session-get returned a malformed reply'), operation, parsed.publicId)
          return null
        }
        const [userId, createdAt, lastAccess, absoluteExpiresAt, version, readOnly, data] = fields
        return toSession(
          parsed,
          [data, userId, createdAt, lastAccess, absoluteExpiresAt, version],
          readOnly === '1',
          operation,
        )
      },
    )

  const store: SessionStore<TData> = {
    async create(userId, data, createOptions = {}) {
      checkUserId(userId)
      const device = normalizeDevice(createOptions.device)
      const encoded = encodeData(codec, data, maxDataBytes)
      for (let attempt = 0; attempt < 3; attempt++) {
        const { token, parsed } = generateToken(userId, tokenBytes)
        const reply = await call(
          'create',
          sessionCreate.run(
            redis,
            [sessionKey(parsed.tag, parsed.id), indexKey(userId)],
            [
              parsed.digest,
              userId,
              encoded,
              idleTimeout,
              absoluteTimeout,
              parsed.id,
              maxSessionsPerUser,
              device.userAgent,
              device.ip,
              device.label,
              sessionKeyPrefix(parsed.tag),
            ],
          ),
        )
        // A taken id (128 random bits) means a broken random source more than bad luck; retry anyway.
        if (!reply) continue
        const [createdAt, absoluteExpiresAt] = reply.map(Number) as [number, number]
        return {
          token,
          session: {
            id: parsed.publicId,
            userId,
            data: decodeData<TData>(codec, encoded),
            createdAt,
            lastAccess: createdAt,
            absoluteExpiresAt,
            idleExpiresAt: Math.min(createdAt + idleTimeout, absoluteExpiresAt),
            version: 1,
            rotated: false,
          },
        }
      }
      throw new InvalidArgumentError('could not allocate a unique session id; check the random source')
    },

    get(token) {
      const parsed = parseToken(token)
      return parsed ? read(parsed, 'get') : Promise.resolve(null)
    },

    async update(token, change, updateOptions = {}) {
      if (typeof change !== 'function') assertRecord(change, 'update patch')
      const retries = assertPositive('retries', updateOptions.retries ?? defaultRetries, {
        allowZero: true,
        integer: true,
      })
      const parsed = parseToken(token)
      if (!parsed) return null
      return serialize(parsed.publicId, async () => {
        for (let attempt = 0; ; attempt++) {
          const current = await read(parsed, 'update')
          if (!current) return null
          if (current.rotated) {
            throw new SessionConflictError('this token was rotated; update through the new token')
          }
          const next =
            typeof change === 'function' ? await change(current.data) : applyPatch(current.data, change)
          const encoded = encodeData(codec, next, maxDataBytes)
          const reply = await call(
            'update',
            sessionUpdate.run(
              redis,
              [sessionKey(parsed.tag, parsed.id)],
              [parsed.digest, current.version, encoded, idleTimeout, parsed.id, indexKeyPrefix(parsed.tag)],
            ),
          )
          const status = Number(reply[0])
          if (status === 1) {
            const lastAccess = Number(reply[2])
            return {
              ...current,
              data: decodeData<TData>(codec, encoded),
              version: Number(reply[1]),
              lastAccess,
              idleExpiresAt: Math.min(lastAccess + idleTimeout, current.absoluteExpiresAt),
            }
          }
          if (status === 0) return null
          if (status === 3)
            throw new SessionConflictError('this token was rotated; update through the new token')
          if (attempt >= retries) {
            throw new SessionConflictError(
              `session ${parsed.publicId} was changed concurrently ${attempt + 1} times; the update was not applied`,
            )
          }
          // Another process won the race: back off a little, with jitter, so retries spread out.
          await sleep(Math.random() * Math.min(50, 2 ** attempt))
        }
      })
    },

    async rotate(token, rotateOptions = {}) {
      const graceMs = assertPositive('graceMs', rotateOptions.graceMs ?? DEFAULT_ROTATE_GRACE_MS, {
        allowZero: true,
        integer: true,
      })
      const parsed = parseToken(token)
      if (!parsed) return null
      // A new id that is already taken (128 random bits) would also return null: not worth a retry.
      const next = generateTokenForTag(parsed.tag, tokenBytes)
      const reply = await call(
        'rotate',
        sessionRotate.run(
          redis,
          [sessionKey(parsed.tag, parsed.id), sessionKey(parsed.tag, next.parsed.id)],
          [
            parsed.digest,
            next.parsed.digest,
            parsed.id,
            next.parsed.id,
            Math.min(graceMs, idleTimeout),
            idleTimeout,
            indexKeyPrefix(parsed.tag),
          ],
        ),
      )
      if (!reply) return null
      const session = toSession(next.parsed, [...reply, 0], false, 'rotate')
      return session ? { token: next.token, session } : null
    },

    async destroy(token) {
      const parsed = parseToken(token)
      if (!parsed) return false
      const reply = await call(
        'destroy',
        sessionDestroy.run(
          redis,
          [sessionKey(parsed.tag, parsed.id)],
          ['h', parsed.digest, parsed.id, sessionKeyPrefix(parsed.tag), indexKeyPrefix(parsed.tag)],
        ),
      )
      return Number(reply) === 1
    },

    async destroyById(userId, sessionId) {
      checkUserId(userId)
      const parsed = parsePublicId(sessionId)
      if (!parsed || parsed.tag !== tagFor(userId)) return false
      const reply = await call(
        'destroyById',
        sessionDestroy.run(
          redis,
          [sessionKey(parsed.tag, parsed.id)],
          ['u', userId, parsed.id, sessionKeyPrefix(parsed.tag), indexKeyPrefix(parsed.tag)],
        ),
      )
      return Number(reply) === 1
    },

    async listForUser(userId, listOptions = {}) {
      checkUserId(userId)
      const tag = tagFor(userId)
      const current = listOptions.current === undefined ? null : parseToken(listOptions.current)
      const reply = await call(
        'listForUser',
        userList.run(redis, [indexKey(userId)], [sessionKeyPrefix(tag), idleTimeout]),
      )
      const [, ...rows] = reply
      return rows.map(([id, createdAt, lastSeen, absoluteExpiresAt, userAgent, ip, label]) => {
        const last = Number(lastSeen)
        const absolute = Number(absoluteExpiresAt)
        const device: DeviceInfo = {}
        if (userAgent) device.userAgent = userAgent
        if (ip) device.ip = ip
        if (label) device.label = label
        return {
          id: `${tag}.${id}`,
          createdAt: Number(createdAt),
          lastSeen: last,
          idleExpiresAt: Math.min(last + idleTimeout, absolute),
          absoluteExpiresAt: absolute,
          device,
          current: current !== null && current.tag === tag && current.id === id,
        }
      })
    },

    async destroyForUser(userId, destroyOptions = {}) {
      checkUserId(userId)
      const tag = tagFor(userId)
      const except = destroyOptions.except === undefined ? null : parseToken(destroyOptions.except)
      const keep = except && except.tag === tag ? except : null
      const reply = await call(
        'destroyForUser',
        userDestroy.run(
          redis,
          [indexKey(userId)],
          [sessionKeyPrefix(tag), keep?.id ?? '', keep?.digest ?? ''],
        ),
      )
      return Number(reply)
    },
  }
  return store
}

function applyPatch<TData extends SessionData>(current: TData, patch: Partial<TData>): TData {
  const next: Record<string, unknown> = { ...current }
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) delete next[key]
    else next[key] = value
  }
  return next as TData
}

const SEPARATOR = '\x1f'

/** Splits session-get's reply: six metadata fields, then the data (which may contain the separator). */
function splitGetReply(reply: string): [string, string, string, string, string, string, string] | null {
  const fields: string[] = []
  let start = 0
  for (let i = 0; i < 6; i++) {
    const end = reply.indexOf(SEPARATOR, start)
    if (end === -1) return null
    fields.push(reply.slice(start, end))
    start = end + 1
  }
  fields.push(reply.slice(start))
  return fields as [string, string, string, string, string, string, string]
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

export function normalizeDevice(device: DeviceInfo | undefined): Required<DeviceInfo> {
  if (device === undefined) return { userAgent: '', ip: '', label: '' }
  if (!isRecord(device)) throw new InvalidArgumentError('device must be an object')
  const out = { userAgent: '', ip: '', label: '' }
  for (const field of ['userAgent', 'ip', 'label'] as const) {
    const value = device[field]
    if (value === undefined || value === null) continue
    if (typeof value !== 'string') throw new InvalidArgumentError(`device.${field} must be a string`)
    out[field] = value.slice(0, DEVICE_LIMITS[field])
  }
  return out
}
