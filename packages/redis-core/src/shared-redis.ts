import type { Cluster, Redis } from 'ioredis'
import {
  type CreateClusterOptions,
  type CreateRedisOptions,
  type CreateServerOptions,
  createRedis,
  type RedisClient,
} from './create-redis.js'

const CACHE = Symbol.for('@x/redis-core/shared-redis')
type Holder = { [CACHE]?: Map<string, RedisClient> }

export interface SharedRedisOptions {
  /**
   * Which shared client: one per name and process, e.g. `'cache'` beside `'default'`.
   * @default 'default'
   */
  name?: string
}

/**
 * One client per process and name, kept on `globalThis` so that hot module reloading (Next.js,
 * Vite) reuses it instead of leaking a connection per reload. Options are read on first use only;
 * the return type follows the same rules as `createRedis`.
 */
export function sharedRedis(options: CreateClusterOptions & SharedRedisOptions): Cluster
export function sharedRedis(options?: CreateServerOptions & SharedRedisOptions): Redis
export function sharedRedis(options?: CreateRedisOptions & SharedRedisOptions): RedisClient
export function sharedRedis(options: CreateRedisOptions & SharedRedisOptions = {}): RedisClient {
  const holder = globalThis as Holder
  holder[CACHE] ??= new Map()
  const cache = holder[CACHE]
  const name = options.name ?? 'default'
  const existing = cache.get(name)
  if (existing && existing.status !== 'end') return existing
  const client = createRedis(options)
  cache.set(name, client)
  return client
}
