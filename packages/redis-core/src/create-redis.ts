import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis'
import { backoffDelay } from './backoff.js'
import { type HostAndPort, type RedisConnectionOptions, resolveRedisConfig } from './config.js'
import { rootCauseOf, watchConnection } from './connection-state.js'
import { InvalidArgumentError } from './errors.js'
import { redact } from './redact.js'
import { assertDuration, describe } from './validate.js'

/** Either client; every @x API accepts both. */
export type RedisClient = Redis | Cluster

export interface CreateRedisOptions extends RedisConnectionOptions {
  /**
   * Which client to make, and so which type `createRedis` returns:
   * - `false`: a `Redis` (one server, or a master found through sentinels). If
   *   `REDIS_CLUSTER_NODES` is set anyway, `createRedis` throws rather than hand a `Cluster` to
   *   code typed for one server.
   * - `true`: a `Cluster`, from `clusterNodes` or `REDIS_CLUSTER_NODES` (one of them is required).
   * - `'auto'`: a `Cluster` when `clusterNodes` or `REDIS_CLUSTER_NODES` is set, else a `Redis`;
   *   typed `Redis | Cluster`.
   *
   * Passing `clusterNodes` implies `true`.
   * @default false (true when clusterNodes is given)
   */
  cluster?: boolean | 'auto'
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
   * Print the first connection error of this client (one `console.error` line with the address
   * and the root cause, e.g. `ECONNREFUSED`, `ENOTFOUND`, `WRONGPASS`; never a password) while
   * ioredis keeps reconnecting. Set `false` to stay quiet; adding your own listener with
   * `client.on('error', listener)` also silences it.
   * @default true
   */
  logConnectionErrors?: boolean
  /**
   * @deprecated Listen with `client.on('error', listener)` on the returned client instead.
   */
  onError?: (error: Error) => void
  /** Raw ioredis options, applied last (escape hatch; our defaults exist for a reason). */
  redisOptions?: RedisOptions
  /** Raw ioredis Cluster options, applied last. */
  clusterOptions?: ClusterOptions
}

/** Options that make `createRedis` return a `Cluster`. */
export type CreateClusterOptions = CreateRedisOptions &
  ({ clusterNodes: HostAndPort[]; cluster?: true | 'auto' } | { cluster: true })

/** Options that make `createRedis` return a `Redis` (one server, or a master behind sentinels). */
export type CreateServerOptions = CreateRedisOptions & { cluster?: false; clusterNodes?: undefined }

/**
 * Creates an ioredis client with production defaults:
 * - bounded connect and command timeouts;
 * - capped exponential reconnect with jitter;
 * - commands issued before the first connection wait for it, but once connected, a command sent
 *   while the connection is down fails at once with `RedisUnavailableError` (via `toRedisError`)
 *   instead of sitting in the offline queue and being replayed late, after its caller gave up;
 * - commands in flight when a connection drops are failed, not re-sent (no double INCR).
 */
export function createRedis(options: CreateClusterOptions): Cluster
export function createRedis(options?: CreateServerOptions): Redis
export function createRedis(options?: CreateRedisOptions): RedisClient
export function createRedis(options: CreateRedisOptions = {}): RedisClient {
  if (![undefined, true, false, 'auto'].includes(options.cluster)) {
    throw new InvalidArgumentError(`cluster must be true, false or 'auto', got ${describe(options.cluster)}`)
  }
  if (options.logConnectionErrors !== undefined && typeof options.logConnectionErrors !== 'boolean') {
    throw new InvalidArgumentError(
      `logConnectionErrors must be true or false, got ${describe(options.logConnectionErrors)}`,
    )
  }
  const config = resolveRedisConfig(options, options.env)
  const wanted = options.cluster ?? options.clusterNodes !== undefined
  if (wanted === true && config.mode !== 'cluster') {
    throw new InvalidArgumentError('cluster: true needs clusterNodes or REDIS_CLUSTER_NODES')
  }
  if (wanted === false && config.mode === 'cluster') {
    throw new InvalidArgumentError(
      "REDIS_CLUSTER_NODES is set but createRedis was asked for one server: pass { cluster: true } (returns a Cluster) or { cluster: 'auto' } (returns Redis | Cluster)",
    )
  }
  const connectTimeoutMs = assertDuration('connectTimeoutMs', options.connectTimeoutMs ?? 5000)
  const commandTimeoutMs = assertDuration('commandTimeoutMs', options.commandTimeoutMs ?? 2000)
  const maxMs = assertDuration('reconnect.maxMs', options.reconnect?.maxMs ?? 2000)
  // The default base never exceeds a small maxMs the caller chose.
  const baseMs = assertDuration('reconnect.baseMs', options.reconnect?.baseMs ?? Math.min(50, maxMs), {
    max: maxMs,
  })
  const retryStrategy = backoff(baseMs, maxMs)

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
    return closeOfflineQueueWhenReady(cluster, options)
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
  return closeOfflineQueueWhenReady(redis, options)
}

function closeOfflineQueueWhenReady<T extends RedisClient>(client: T, options: CreateRedisOptions): T {
  // The offline queue is useful only for the first connect; afterwards it replays commands late.
  client.once('ready', () => {
    client.options.enableOfflineQueue = false
  })
  const state = watchConnection(client)
  // An EventEmitter without an 'error' listener crashes the process on the first failed connect, so
  // one is always there; it prints the first error unless told not to or the app listens itself.
  const ours = new Set<(...args: never[]) => void>()
  let logged = options.logConnectionErrors === false || options.onError !== undefined
  const onError = (error: Error) => {
    options.onError?.(error)
    if (logged) return
    const appListens = client.listeners('error').some((listener) => !ours.has(listener as never))
    if (appListens) return
    logged = true
    const phase = state.everReady ? 'lost its connection' : 'cannot connect'
    // A Cluster learns why its seed nodes fail from a probe that may still be running.
    void (state.diagnosing ?? Promise.resolve()).then(() => {
      const cause = rootCauseOf(error) ?? state.lastError?.code ?? 'error'
      console.error(
        `[@x/redis-core] Redis at ${state.address} ${phase}: ${cause} (${redact(error.message)}); ` +
          "retrying in the background. Listen with client.on('error') or set logConnectionErrors: false to silence this line.",
      )
    })
  }
  ours.add(onError)
  client.on('error', onError)
  for (const listener of client.listeners('error')) ours.add(listener as never)
  return client
}

/**
 * Capped exponential backoff with "equal jitter": half fixed, half random.
 * @deprecated Use `backoffDelay(attempt, { initialMs, maxMs, jitter: 'equal' })`.
 */
export function backoff(baseMs: number, maxMs: number): (attempt: number) => number {
  return (attempt) => Math.round(backoffDelay(attempt, { initialMs: baseMs, maxMs, jitter: 'equal' }))
}
