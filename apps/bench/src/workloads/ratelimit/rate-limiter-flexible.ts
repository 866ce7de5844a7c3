import { RateLimiterRedis, RateLimiterRes, RateLimiterUnion } from 'rate-limiter-flexible'
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

const implementation = IMPLEMENTATION.rateLimiterFlexible

/** consume() rejects with a RateLimiterRes when limited: that is an answer, not a failure. */
function consumeOutcome(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (result) => result,
    (rejection: unknown) => {
      if (rejection instanceof RateLimiterRes || isUnionRejection(rejection)) return rejection
      throw rejection
    },
  )
}

function isUnionRejection(rejection: unknown): boolean {
  return (
    typeof rejection === 'object' &&
    rejection !== null &&
    !(rejection instanceof Error) &&
    Object.values(rejection).every((value) => value instanceof RateLimiterRes)
  )
}

export const rateLimiterFlexible: RateLimitFamily = {
  allowed: guard(implementation, async ({ redis, prefix }) => {
    const limiter = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: prefix('rlf-allowed'),
      points: HUGE_LIMIT,
      duration: 3600,
    })
    return {
      implementation,
      operation: (_worker, iteration) => consumeOutcome(limiter.consume(allowedKey(iteration))),
    }
  }),

  blocked: (memoryCache) =>
    guard(implementation, async ({ redis, prefix }) => {
      const limiter = new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: prefix('rlf-blocked'),
        points: BLOCKED_LIMIT,
        duration: 3600,
        // Its in-memory cache: a key that reached the limit is refused locally until its window ends.
        ...(memoryCache ? { inMemoryBlockOnConsumed: BLOCKED_LIMIT } : {}),
      })
      for (const key of exhaustedKeys()) await consumeOutcome(limiter.consume(key, BLOCKED_LIMIT))
      const keyOf = blockedPattern()
      return {
        implementation,
        operation: (_worker, iteration) => consumeOutcome(limiter.consume(keyOf(iteration))),
      }
    }),

  twoPolicies: guard(implementation, async ({ redis, prefix }) => {
    const keyPrefix = prefix('rlf-union')
    const perSecond = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `${keyPrefix}:second`,
      points: PER_SECOND_LIMIT,
      duration: 1,
    })
    const perDay = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `${keyPrefix}:day`,
      points: HUGE_LIMIT,
      duration: 86_400,
    })
    const union = new RateLimiterUnion(perSecond, perDay)
    return {
      implementation,
      operation: (_worker, iteration) => consumeOutcome(union.consume(allowedKey(iteration))),
    }
  }),
}
