import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis'
import { type RedisConnectionOptions, resolveRedisConfig } from './config.js'

/** Either client; every @x API accepts both. */
export type RedisClient = Redis | Cluster

export interface CreateRedisOptions extends RedisConnectionOptions {
  /**
   * Longest wait for a TCP (and TLS) connection.
   * @default 5000
   */
  connectTimeoutMs?: number
  /**
   * Longest wait for any command's reply. A paused or overloaded server makes commands fail with
   * `TimeoutError` instead of hanging.
   * @default 2000
   */
  commandTimeoutMs?: number
  /**
   * Reconnect backoff: exponential from `baseMs`, capped at `maxMs`, with jitter so a fleet does
   * not reconnect in lockstep.
   * @default { baseMs: 50, maxMs: 2000 }
   */
  reconnect?: { baseMs?: number; maxMs?: number }
  /** CLIENT SETNAME, visible in CLIENT LIST. */
  connectionName?: string
  /** Environment to read; tests pass their own. @default process.env */
  env?: Record<string, string | undefined>
  /**
   * Connection-level errors (failed connects, resets). Every command that fails rejects with its
   * own error, so these are for logging; without a listener ioredis would crash the process.
   * @default ignored
   */
  onError?: (error: Error) => void
  /** Raw ioredis options, applied last (escape hatch; our defaults exist for a reason). */
  redisOptions?: RedisOptions
  /** Raw ioredis Cluster options, applied last. */
  clusterOptions?: ClusterOptions
}

/**
 * Creates an ioredis client with production defaults:
 * - bounded connect and command timeouts;
 * - capped exponential reconnect with jitter;
 * - commands issued before the first connection wait for it, but once connected, a command sent
 *   while the connection is down fails at once with `RedisUnavailableError` (via `toRedisError`)
 *   instead of sitting in the offline queue and being replayed late, after its caller gave up;
 * - commands in flight when a connection drops are failed, not re-sent (no double INCR).
 */
export function createRedis(options: CreateRedisOptions = {}): RedisClient {
  const config = resolveRedisConfig(options, options.env)
  const { connectTimeoutMs = 5000, commandTimeoutMs = 2000 } = options
  const retryStrategy = backoff(options.reconnect?.baseMs ?? 50, options.reconnect?.maxMs ?? 2000)

  const common: RedisOptions = {
    connectTimeout: connectTimeoutMs,
    commandTimeout: commandTimeoutMs,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    enableOfflineQueue: true,
    retryStrategy,
    ...(config.username ? { username: config.username } : {}),
    ...(config.password ? { password: config.password } : {}),
    ...(config.tls ? { tls: config.tls } : {}),
    ...(options.connectionName ? { connectionName: options.connectionName } : {}),
  }

  if (config.mode === 'cluster') {
    const cluster = new Cluster(config.nodes, {
      clusterRetryStrategy: retryStrategy,
      enableOfflineQueue: true,
      slotsRefreshTimeout: Math.min(connectTimeoutMs, 2000),
      redisOptions: { ...common, ...options.redisOptions },
      ...options.clusterOptions,
    })
    return closeOfflineQueueWhenReady(cluster, options.onError)
  }

  const redis =
    config.mode === 'sentinel'
      ? new Redis({
          ...common,
          sentinels: config.sentinels,
          name: config.name,
          db: config.db,
          ...(config.tls ? { enableTLSForSentinelMode: true } : {}),
          ...options.redisOptions,
        })
      : new Redis({ ...common, host: config.host, port: config.port, db: config.db, ...options.redisOptions })
  return closeOfflineQueueWhenReady(redis, options.onError)
}

function closeOfflineQueueWhenReady<T extends RedisClient>(
  client: T,
  onError: (error: Error) => void = noop,
): T {
  // The offline queue is useful only for the first connect; afterwards it replays commands late.
  client.once('ready', () => {
    client.options.enableOfflineQueue = false
  })
  // An EventEmitter without an 'error' listener crashes the process on the first failed connect.
  client.on('error', onError)
  return client
}

function noop() {}

/** Capped exponential backoff with "equal jitter": half fixed, half random. */
export function backoff(baseMs: number, maxMs: number): (attempt: number) => number {
  return (attempt) => {
    const capped = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 20))
    return Math.round(capped / 2 + Math.random() * (capped / 2))
  }
}
