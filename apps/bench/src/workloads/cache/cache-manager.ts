import KeyvRedis from '@keyv/redis'
import { createCache } from 'cache-manager'
import { Keyv } from 'keyv'
import { guard } from '../../harness/runner.js'
import type { BenchContext } from '../../harness/types.js'
import { IMPLEMENTATION } from '../../scenario-names.js'
import { type CacheFamily, cacheKey, countingFetcher, stampedeWith, TTL_MS, warm } from './families.js'

const implementation = IMPLEMENTATION.cacheManager

/**
 * cache-manager 7 as its README sets it up: Keyv stores, @keyv/redis for Redis (it brings its own
 * node-redis connection: @keyv/redis does not take an ioredis client), an in-memory Keyv in front
 * for the L1 scenario. wrap() is its getOrSet.
 */
function open(context: BenchContext, withL1: boolean) {
  const namespace = context.prefix(withL1 ? 'cm-l1' : 'cm-l2')
  const redisStore = new Keyv({ store: new KeyvRedis(context.server.url), namespace })
  const stores = withL1 ? [new Keyv(), redisStore] : [redisStore]
  return createCache({ stores })
}

function hit(withL1: boolean) {
  return guard(implementation, async (context) => {
    const cache = open(context, withL1)
    const { state, fetch } = countingFetcher()
    const read = (key: string) => cache.wrap(key, fetch, TTL_MS)
    await warm(read)
    const warmCalls = state.calls
    return {
      implementation,
      operation: (_worker, iteration) => read(cacheKey(iteration)),
      close: async () => {
        await cache.disconnect()
        if (state.calls !== warmCalls)
          throw new Error(`fetcher ran ${state.calls - warmCalls} times on warm keys`)
      },
    }
  })
}

export const cacheManager: CacheFamily = {
  implementation,
  l2Hit: hit(false),
  l1Hit: hit(true),
  async stampede(context, readers) {
    const cache = open(context, false)
    try {
      const key = `cold:${Date.now()}`
      return await stampedeWith(readers, (fetcher) => cache.wrap(key, fetcher, TTL_MS))
    } finally {
      await cache.disconnect()
    }
  },
}
