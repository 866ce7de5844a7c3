import { createRateLimiter } from '@x/ratelimit'
import { guard } from '../../harness/runner.js'
import { IMPLEMENTATION } from '../../scenario-names.js'
import {
  allowedKey,
  BLOCKED_LIMIT,
  blockedPattern,
  exhaustedKeys,
  HUGE_LIMIT,
  PER_SECOND_LIMIT,
  type RateLimitFamily,
} from './families.js'

const implementation = IMPLEMENTATION.xRateLimit

/** @x/ratelimit with its default algorithm (GCRA) and default failure policy (fail-open). */
export const xRateLimit: RateLimitFamily = {
  allowed: guard(implementation, async ({ redis, prefix }) => {
    const limiter = createRateLimiter({
      redis,
      prefix: prefix('x-allowed'),
      limit: HUGE_LIMIT,
      windowMs: 3_600_000,
    })
    return { implementation, operation: (_worker, iteration) => limiter.limit(allowedKey(iteration)) }
  }),

  blocked: (memoryCache) =>
    guard(implementation, async ({ redis, prefix }) => {
      const limiter = createRateLimiter({
        redis,
        prefix: prefix('x-blocked'),
        limit: BLOCKED_LIMIT,
        windowMs: 3_600_000,
        blockedCache: memoryCache,
      })
      for (const key of exhaustedKeys()) await limiter.limit(key, { cost: BLOCKED_LIMIT })
      const keyOf = blockedPattern()
      return { implementation, operation: (_worker, iteration) => limiter.limit(keyOf(iteration)) }
    }),

  twoPolicies: guard(implementation, async ({ redis, prefix }) => {
    const limiter = createRateLimiter({
      redis,
      prefix: prefix('x-two'),
      policies: [
        { name: 'second', limit: PER_SECOND_LIMIT, windowMs: 1000 },
        { name: 'day', limit: HUGE_LIMIT, windowMs: 86_400_000 },
      ],
    })
    return { implementation, operation: (_worker, iteration) => limiter.limit(allowedKey(iteration)) }
  }),
}
