import type { ConnectionOptions } from 'node:tls'
import { InvalidArgumentError } from './errors.js'
import { redact } from './redact.js'

export interface HostAndPort {
  host: string
  port: number
}

export interface RedisConnectionOptions {
  /** `redis://user:pass@host:port/db` or `rediss://…` for TLS. Env: `REDIS_URL`. */
  url?: string
  /** Env: `REDIS_HOST`. @default '127.0.0.1' */
  host?: string
  /** Env: `REDIS_PORT`. @default 6379 */
  port?: number
  /** Env: `REDIS_USERNAME`. */
  username?: string
  /** Env: `REDIS_PASSWORD`. */
  password?: string
  /** Env: `REDIS_DB`. Ignored on Cluster (which has only db 0). @default 0 */
  db?: number
  /** `true` or Node TLS options. Env: `REDIS_TLS=1`; implied by `rediss://`. @default false */
  tls?: boolean | ConnectionOptions
  /** Cluster seed nodes. Env: `REDIS_CLUSTER_NODES=host:port,host:port`. Setting it makes a `Cluster`. */
  clusterNodes?: HostAndPort[]
  /** Sentinels. Env: `REDIS_SENTINELS=host:port,…` with `REDIS_SENTINEL_NAME` (the master's name). */
  sentinels?: HostAndPort[]
  /** Name of the master the sentinels watch. Env: `REDIS_SENTINEL_NAME`. @default 'mymaster' */
  sentinelName?: string
}

export type ResolvedRedisConfig =
  | {
      mode: 'standalone'
      host: string
      port: number
      username?: string
      password?: string
      db: number
      tls?: ConnectionOptions
    }
  | { mode: 'cluster'; nodes: HostAndPort[]; username?: string; password?: string; tls?: ConnectionOptions }
  | {
      mode: 'sentinel'
      sentinels: HostAndPort[]
      name: string
      username?: string
      password?: string
      db: number
      tls?: ConnectionOptions
    }

type Env = Record<string, string | undefined>

/**
 * Resolves connection settings: explicit options win over the environment, the environment wins
 * over defaults. Pure, so every env combination is testable without a server.
 */
export function resolveRedisConfig(
  options: RedisConnectionOptions = {},
  env: Env = process.env,
): ResolvedRedisConfig {
  const fromUrl = parseUrl(
    options.url ?? nonEmpty(env.REDIS_URL),
    options.url === undefined ? 'REDIS_URL' : 'url',
  )
  const username = options.username ?? fromUrl?.username ?? nonEmpty(env.REDIS_USERNAME)
  const password = options.password ?? fromUrl?.password ?? nonEmpty(env.REDIS_PASSWORD)
  const tlsFlag = options.tls ?? (fromUrl?.tls || parseBool(env.REDIS_TLS, 'REDIS_TLS'))
  const tls = tlsFlag === true ? {} : tlsFlag === false || tlsFlag === undefined ? undefined : tlsFlag
  const auth = {
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(tls ? { tls } : {}),
  }

  const clusterNodes = options.clusterNodes ?? parseNodes(env.REDIS_CLUSTER_NODES, 'REDIS_CLUSTER_NODES')
  if (clusterNodes && clusterNodes.length > 0) {
    return { mode: 'cluster', nodes: clusterNodes, ...auth }
  }

  const db = options.db ?? fromUrl?.db ?? parseIntEnv(env.REDIS_DB, 'REDIS_DB') ?? 0
  if (!Number.isInteger(db) || db < 0) throw new InvalidArgumentError(`db must be an integer >= 0, got ${db}`)

  const sentinels = options.sentinels ?? parseNodes(env.REDIS_SENTINELS, 'REDIS_SENTINELS')
  if (sentinels && sentinels.length > 0) {
    const name = options.sentinelName ?? nonEmpty(env.REDIS_SENTINEL_NAME) ?? 'mymaster'
    return { mode: 'sentinel', sentinels, name, db, ...auth }
  }

  const host = options.host ?? fromUrl?.host ?? nonEmpty(env.REDIS_HOST) ?? '127.0.0.1'
  const port = options.port ?? fromUrl?.port ?? parseIntEnv(env.REDIS_PORT, 'REDIS_PORT') ?? 6379
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new InvalidArgumentError(`port must be an integer in 1..65535, got ${port}`)
  }
  return { mode: 'standalone', host, port, db, ...auth }
}

function parseUrl(url: string | undefined, name: string) {
  if (!url) return undefined
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    // Node's error keeps the whole input (password included) in its message and `input` field:
    // it must not travel as the cause, and the URL is never repeated.
    throw new InvalidArgumentError(
      `${name} is not a valid URL (expected redis://[user:password@]host[:port][/db], ${url.length} characters given)`,
    )
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new InvalidArgumentError(`${name} must start with redis:// or rediss://, got ${parsed.protocol}//`)
  }
  const dbText = parsed.pathname.replace(/^\//, '') || parsed.searchParams.get('db') || ''
  const db = dbText === '' ? undefined : Number(dbText)
  if (db !== undefined && (!Number.isInteger(db) || db < 0)) {
    throw new InvalidArgumentError(`${name} database must be an integer >= 0, got ${dbText}`)
  }
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1') || undefined,
    port: parsed.port ? Number(parsed.port) : undefined,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db,
    tls: parsed.protocol === 'rediss:',
  }
}

function parseNodes(value: string | undefined, name: string): HostAndPort[] | undefined {
  const text = nonEmpty(value)
  if (!text) return undefined
  return text.split(',').map((entry) => {
    const trimmed = entry.trim()
    const match = /^(.+):(\d+)$/.exec(trimmed)
    if (!match) throw new InvalidArgumentError(`${name} entries must be host:port, got "${redact(trimmed)}"`)
    return { host: match[1]!.replace(/^\[(.*)\]$/, '$1'), port: Number(match[2]) }
  })
}

function parseIntEnv(value: string | undefined, name: string): number | undefined {
  const text = nonEmpty(value)
  if (text === undefined) return undefined
  const number = Number(text)
  if (!Number.isInteger(number)) throw new InvalidArgumentError(`${name} must be an integer, got "${text}"`)
  return number
}

function parseBool(value: string | undefined, name: string): boolean | undefined {
  const text = nonEmpty(value)?.toLowerCase()
  if (text === undefined) return undefined
  if (['1', 'true', 'yes', 'on'].includes(text)) return true
  if (['0', 'false', 'no', 'off'].includes(text)) return false
  throw new InvalidArgumentError(`${name} must be true or false, got "${value}"`)
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim()
}
