import {
  assertDuration,
  assertPositive,
  assertRedisClient,
  type Codec,
  InvalidArgumentError,
  jsonCodec,
  type RedisClient,
} from '@x/redis-core'

export interface SessionStoreOptions {
  /** An ioredis `Redis` or `Cluster` (from `createRedis` or your own). The store never closes it. */
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
  idleTimeoutMs?: number
  /**
   * Milliseconds after creation after which a session dies, however active it is. Rotation keeps
   * the original creation time.
   * @default 2_592_000_000 (30 days)
   */
  absoluteTimeoutMs?: number
  /**
   * A read slides the idle expiry only when the last slide is at least this old, so most reads
   * write nothing. `lastAccess` is accurate to this interval. Must be less than `idleTimeoutMs`;
   * 0 slides on every read.
   * @default 60_000, or idleTimeoutMs / 2 when that is smaller
   */
  touchIntervalMs?: number
  /** How session data becomes bytes. @default jsonCodec */
  codec?: Codec
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
   * process before it rejects with `SessionConflictError`. Updates of one token inside one store
   * never race: they are queued.
   * @default 8
   */
  updateRetries?: number
  /**
   * Milliseconds each Redis call may take before it rejects with `TimeoutError`, whatever the
   * client's own `commandTimeout` is.
   * @default 1000
   */
  redisTimeoutMs?: number
}

export interface ResolvedStoreOptions {
  redis: RedisClient
  prefix: string
  idleTimeoutMs: number
  absoluteTimeoutMs: number
  touchIntervalMs: number
  codec: Codec
  maxDataBytes: number
  maxSessionsPerUser: number
  updateRetries: number
  redisTimeoutMs: number
}

const DAY = 86_400_000
const MAX_LIFETIME_MS = 3650 * DAY

/** Options renamed before the first release: a JavaScript caller with an old name gets told, not ignored. */
const RENAMED: Record<string, string> = {
  idleTimeout: 'idleTimeoutMs',
  absoluteTimeout: 'absoluteTimeoutMs',
  touchInterval: 'touchIntervalMs',
  timeout: 'redisTimeoutMs',
  onError: "the 'error' event (store.on('error', listener))",
  tokenBytes: 'nothing: the secret is always 43 random characters (258 bits)',
}

export function assertNoRenamedOptions(options: object, renamed: Record<string, string>): void {
  for (const [old, now] of Object.entries(renamed)) {
    if (old in options) throw new InvalidArgumentError(`option ${old} was replaced by ${now}`)
  }
}

export function resolveStoreOptions(options: SessionStoreOptions): ResolvedStoreOptions {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('createSessionStore takes an options object with redis')
  }
  assertNoRenamedOptions(options, RENAMED)
  const redis = options.redis
  assertRedisClient(redis, 'redis')
  // Session lifetimes may exceed a Node.js timer's range (they are Redis expiries, not timers):
  // up to 10 years.
  const idleTimeoutMs = Math.floor(
    assertDuration('idleTimeoutMs', options.idleTimeoutMs ?? 7 * DAY, { max: MAX_LIFETIME_MS }),
  )
  const absoluteTimeoutMs = Math.floor(
    assertDuration('absoluteTimeoutMs', options.absoluteTimeoutMs ?? 30 * DAY, { max: MAX_LIFETIME_MS }),
  )
  const touchIntervalMs = Math.floor(
    assertDuration(
      'touchIntervalMs',
      options.touchIntervalMs ?? Math.min(60_000, Math.floor(idleTimeoutMs / 2)),
      { allowZero: true, max: MAX_LIFETIME_MS },
    ),
  )
  if (touchIntervalMs >= idleTimeoutMs) {
    throw new InvalidArgumentError(
      `touchIntervalMs (${touchIntervalMs}) must be less than idleTimeoutMs (${idleTimeoutMs})`,
    )
  }
  return {
    redis,
    prefix: options.prefix ?? 'session',
    idleTimeoutMs,
    absoluteTimeoutMs,
    touchIntervalMs,
    codec: options.codec ?? jsonCodec,
    maxDataBytes: assertPositive('maxDataBytes', options.maxDataBytes ?? 65_536, { integer: true }),
    maxSessionsPerUser: assertPositive('maxSessionsPerUser', options.maxSessionsPerUser ?? 1000, {
      integer: true,
    }),
    updateRetries: assertPositive('updateRetries', options.updateRetries ?? 8, {
      allowZero: true,
      integer: true,
    }),
    redisTimeoutMs: assertDuration('redisTimeoutMs', options.redisTimeoutMs ?? 1000),
  }
}
