import { createRateLimiter } from '@x/ratelimit'
import { IMPLEMENTATION } from '../../scenario-names.js'
import { HUGE_LIMIT, KEY_COUNT } from '../ratelimit/families.js'
import type { FailoverCase } from './case.js'

/**
 * @x/ratelimit limit() with its defaults (GCRA, fail-open), limits too high to bite. A check Redis
 * cannot answer is admitted by the failure mode: counted as "fail-open".
 */
export const rateLimitCase: FailoverCase = {
  implementation: IMPLEMENTATION.xRateLimit,
  operation: 'limit() (1,000 keys, default fail-open)',
  async open({ redis, shard, prefix }) {
    const limiter = createRateLimiter({ redis, prefix, limit: HUGE_LIMIT, windowMs: 3_600_000 })
    const keys = shard.pick(
      KEY_COUNT,
      (index) => `k${index}`,
      (key) => `{${key}}`,
    )
    return {
      async call(_worker, iteration) {
        const result = await limiter.limit(keys[iteration % keys.length]!)
        if (result.reason !== undefined) return result.reason
        return result.allowed ? undefined : 'refused'
      },
      close() {},
    }
  },
}
