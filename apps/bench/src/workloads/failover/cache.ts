import { createCache } from '@x/cache'
import { IMPLEMENTATION } from '../../scenario-names.js'
import { KEY_COUNT, sampleObject, TTL_MS } from '../cache/families.js'
import { type FailoverCase, inBatches } from './case.js'

/**
 * @x/cache getOrSet on warm keys, through Redis (no L1). A hit that Redis cannot answer in time runs
 * the fetcher instead: counted as "fetcher ran".
 */
export const cacheCase: FailoverCase = {
  implementation: IMPLEMENTATION.xCache,
  operation: 'getOrSet hit (1,000 warm keys)',
  async open({ redis, shard, prefix }) {
    const cache = createCache({ redis, prefix, ttlMs: TTL_MS })
    await cache.ready()
    const keys = shard.pick(
      KEY_COUNT,
      (index) => `user:${index}`,
      (key) => `${prefix}:#v:${key}`,
    )
    await inBatches(keys, 100, (key) => cache.set(key, sampleObject()))
    return {
      async call(_worker, iteration) {
        let fetched = false
        await cache.getOrSet(keys[iteration % keys.length]!, () => {
          fetched = true
          return sampleObject()
        })
        return fetched ? 'fetcher ran' : undefined
      },
      close: () => cache.close(),
    }
  },
}
