import { createCache } from '@x/cache'
import { guard } from '../../harness/runner.js'
import type { BenchContext } from '../../harness/types.js'
import { IMPLEMENTATION } from '../../scenario-names.js'
import {
  type CacheFamily,
  cacheKey,
  countingFetcher,
  KEY_COUNT,
  stampedeWith,
  TTL_MS,
  warm,
} from './families.js'

const implementation = IMPLEMENTATION.xCache

/** @x/cache with its defaults; the L1 scenario adds its in-process LRU (and with it the invalidation bus). */
async function open(context: BenchContext, withL1: boolean) {
  const cache = createCache({
    redis: context.redis,
    prefix: context.prefix(withL1 ? 'x-cache-l1' : 'x-cache-l2'),
    ttlMs: TTL_MS,
    ...(withL1 ? { l1: { maxEntries: KEY_COUNT * 10, ttlMs: TTL_MS } } : {}),
  })
  await cache.ready()
  return cache
}

function hit(withL1: boolean) {
  return guard(implementation, async (context) => {
    const cache = await open(context, withL1)
    const { state, fetch } = countingFetcher()
    const read = (key: string) => cache.getOrSet(key, fetch)
    await warm(read)
    const warmCalls = state.calls
    return {
      implementation,
      operation: (_worker, iteration) => read(cacheKey(iteration)),
      close: async () => {
        await cache.close()
        if (state.calls !== warmCalls)
          throw new Error(`fetcher ran ${state.calls - warmCalls} times on warm keys`)
      },
    }
  })
}

export const xCache: CacheFamily = {
  implementation,
  l2Hit: hit(false),
  l1Hit: hit(true),
  async stampede(context, readers) {
    const cache = await open(context, false)
    try {
      const key = `cold:${Date.now()}`
      return await stampedeWith(readers, (fetcher) => cache.getOrSet(key, fetcher))
    } finally {
      await cache.close()
    }
  },
}
