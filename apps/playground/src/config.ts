import { hostname } from 'node:os'

export interface PlaygroundConfig {
  /** HTTP port. Env: `PORT`. @default 3000 */
  port: number
  /** Interface to listen on. Env: `HOST`. @default '127.0.0.1' */
  host: string
  /** Redis to use. Env: `REDIS_URL`. When unset, a throwaway redis-server is started. */
  redisUrl: string | undefined
  /** Postgres to use. Env: `DATABASE_URL`. When unset, an embedded PGlite is used. */
  databaseUrl: string | undefined
  /** Folder for PGlite's data. Env: `PGLITE_DIR`. @default in memory (gone on exit) */
  pgliteDir: string | undefined
  /** Name of this instance, shown in responses and events. Env: `INSTANCE_ID`. @default host:pid */
  instanceId: string
  /** Prefix of every Redis key the app writes. Env: `KEY_PREFIX`. @default 'playground' */
  keyPrefix: string
  /** Requests per minute per client IP. Env: `RATE_LIMIT_IP_PER_MINUTE`. @default 600 */
  ipLimitPerMinute: number
  /** Requests per minute per signed-in user. Env: `RATE_LIMIT_USER_PER_MINUTE`. @default 120 */
  userLimitPerMinute: number
  /** Sign-in attempts per 15 minutes per account (e-mail), whatever the address. Env: `LOGIN_ATTEMPTS_PER_ACCOUNT`. @default 10 */
  loginAttemptsPerAccount: number
  /** Sign-in attempts per minute per client IP. Env: `LOGIN_ATTEMPTS_PER_IP`. @default 30 */
  loginAttemptsPerIp: number
  /** Open event streams (`/events`) per client IP. Env: `EVENT_STREAMS_PER_CLIENT`. @default 8 */
  eventStreamsPerClient: number
  /** Open event streams in this process. Env: `EVENT_STREAMS_TOTAL`. @default 500 */
  eventStreamsTotal: number
  /**
   * App instances this process runs, on consecutive ports from `port`, sharing the database but
   * nothing else (ids A, B, …). Env: `INSTANCES`, or the `--instances N` argument. @default 1
   */
  instances: number
  /** Other instances' base URLs, for the side-by-side page. Env: `PEER_URLS` (comma-separated). @default none */
  peerUrls: string[]
  /** Mark the session cookie `Secure`. Env: `COOKIE_SECURE`. @default false (plain http on localhost) */
  cookieSecure: boolean
  /**
   * Keys (32+ bytes each) that sign the session cookie; the first signs, all verify, so a new key
   * goes first. Env: `COOKIE_SECRETS` (comma-separated). @default a development key
   */
  cookieSecrets: string[]
}

type Env = Record<string, string | undefined>

/** Reads the configuration from the environment; throws one readable error for a bad value. */
export function loadConfig(
  env: Env = process.env,
  args: readonly string[] = process.argv.slice(2),
): PlaygroundConfig {
  const flag = args.indexOf('--instances')
  const instancesEnv = flag === -1 ? env : { ...env, INSTANCES: args[flag + 1] }
  return {
    port: integer(env, 'PORT', 3000, 0, 65535),
    host: text(env.HOST) ?? '127.0.0.1',
    redisUrl: text(env.REDIS_URL),
    databaseUrl: text(env.DATABASE_URL),
    pgliteDir: text(env.PGLITE_DIR),
    instanceId: text(env.INSTANCE_ID) ?? `${hostname()}:${process.pid}`,
    keyPrefix: text(env.KEY_PREFIX) ?? 'playground',
    ipLimitPerMinute: integer(env, 'RATE_LIMIT_IP_PER_MINUTE', 600, 1, 1_000_000),
    userLimitPerMinute: integer(env, 'RATE_LIMIT_USER_PER_MINUTE', 120, 1, 1_000_000),
    loginAttemptsPerAccount: integer(env, 'LOGIN_ATTEMPTS_PER_ACCOUNT', 10, 1, 1_000_000),
    loginAttemptsPerIp: integer(env, 'LOGIN_ATTEMPTS_PER_IP', 30, 1, 1_000_000),
    eventStreamsPerClient: integer(env, 'EVENT_STREAMS_PER_CLIENT', 8, 1, 100_000),
    eventStreamsTotal: integer(env, 'EVENT_STREAMS_TOTAL', 500, 1, 100_000),
    instances: integer(instancesEnv, 'INSTANCES', 1, 1, 4),
    peerUrls: list(env.PEER_URLS),
    cookieSecure: ['1', 'true', 'yes'].includes((text(env.COOKIE_SECURE) ?? 'false').toLowerCase()),
    cookieSecrets: list(
      text(env.COOKIE_SECRETS) ?? 'playground-development-cookie-key-change-me-in-production',
    ),
  }
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '')
}

function text(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim()
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = text(env[name])
  if (value === undefined) return fallback
  const parsed = Number(value)
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
    throw new Error(`${name} must be an integer in ${min}..${max}, got "${value}"`)
  }
  return parsed
}
