import { createEmitter, createRedisCaller, createServerClock, randomId } from '@x/redis-core'
import { RedisCache } from './cache.js'
import { emptyStats } from './events.js'
import { connectBus } from './invalidation.js'
import { LocalCache } from './lru.js'
import { resolveOptions } from './options.js'
import type { CacheState } from './state.js'
import type { Cache, CacheEvents, CacheOptions } from './types.js'

/**
 * Creates a cache on a Redis or Cluster client. Nothing is sent to Redis until the first call,
 * except the invalidation bus subscription when `l1` is set.
 */
export function createCache(options: CacheOptions): Cache {
  const { prefix, l1, redisTimeoutMs, ...settings } = resolveOptions(options)
  const emitter = createEmitter<CacheEvents>({ name: '@x/cache' })
  const state: CacheState = {
    ...settings,
    l1: l1 ? new LocalCache(l1.maxEntries, l1.ttlMs) : undefined,
    bus: undefined,
    channel: `${prefix}:#bus`,
    // An instance id (CONVENTIONS: 10 characters, unique among live instances, not a secret).
    origin: randomId(10),
    tagBase: `${prefix}:#t:{${prefix}}:`,
    emitter,
    stats: emptyStats(),
    caller: createRedisCaller(settings.redis, { timeoutMs: redisTimeoutMs }),
    inflight: new Map(),
    completed: new Map(),
    readEpoch: 0,
    refreshing: new Set(),
    clock: createServerClock(),
    invalidationSeq: 0,
  }
  if (state.l1) connectBus(state)
  return new RedisCache(state, prefix)
}
