export type { BlockedCacheOptions } from './blocked-cache.js'
export { MAX_KEY_BYTES } from './key.js'
export {
  createMemoryRateLimiter,
  type FallbackLimiter,
  type MemoryRateLimiter,
  type MemoryRateLimiterOptions,
} from './memory-limiter.js'
export type { Algorithm, Policy, PolicyOptions } from './policy.js'
export {
  createRateLimiter,
  type LimitOptions,
  type RateLimiter,
  type RateLimiterOptions,
  type RedisErrorPolicy,
} from './rate-limiter.js'
export type { PolicyResult, RateLimitReason, RateLimitResult } from './result.js'
