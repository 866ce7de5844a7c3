import { type CreateRedisOptions, createRedis, type RedisClient } from './create-redis.js'

const CACHE = Symbol.for('@x/redis-core/shared-redis')
type Holder = { [CACHE]?: Map<string, RedisClient> }

/**
 * One client per process and name, kept on `globalThis` so that hot module reloading (Next.js,
 * Vite) reuses it instead of leaking a connection per reload. Options are read on first use only.
 */
export function sharedRedis(options: CreateRedisOptions & { name?: string } = {}): RedisClient {
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
