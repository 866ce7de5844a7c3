import { BentoCache, bentostore } from 'bentocache'
import { memoryDriver } from 'bentocache/drivers/memory'
import { redisDriver } from 'bentocache/drivers/redis'
import { guard } from '../../harness/runner.js'
import type { BenchContext } from '../../harness/types.js'
import { IMPLEMENTATION } from '../../scenario-names.js'
import { type CacheFamily, cacheKey, countingFetcher, stampedeWith, TTL_MS, warm } from './families.js'

const implementation = IMPLEMENTATION.bentocache

/**
 * bentocache 1.6 on the bench's ioredis 6 connection (its peer range says ^5.3.2; it works: GET/SET
 * and its Lua-free paths are unchanged). L2 alone, or its memory driver as L1 in front of it.
 */
function open(context: BenchContext, withL1: boolean) {
  const prefix = context.prefix(withL1 ? 'bento-l1' : 'bento-l2')
  let store = bentostore()
  if (withL1) store = store.useL1Layer(memoryDriver({ maxItems: 10_000 }))
  store = store.useL2Layer(redisDriver({ connection: context.redis, prefix }))
  const bento = new BentoCache({ default: 'store', stores: { store } })
  return bento
}

function hit(withL1: boolean) {
  return guard(implementation, async (context) => {
    const bento = open(context, withL1)
    const { state, fetch } = countingFetcher()
    const read = (key: string) => bento.getOrSet({ key, factory: fetch, ttl: TTL_MS })
    await warm(read)
    const warmCalls = state.calls
    return {
      implementation,
      operation: (_worker, iteration) => read(cacheKey(iteration)),
      close: async () => {
        if (state.calls !== warmCalls)
          throw new Error(`fetcher ran ${state.calls - warmCalls} times on warm keys`)
        // Its disconnect() would QUIT the shared bench connection: nothing else to free.
      },
    }
  })
}

export const bentocache: CacheFamily = {
  implementation,
  l2Hit: hit(false),
  l1Hit: hit(true),
  async stampede(context, readers) {
    const bento = open(context, false)
    const key = `cold:${Date.now()}`
    return stampedeWith(readers, (fetcher) => bento.getOrSet({ key, factory: fetcher, ttl: TTL_MS }))
  },
}
