export {
  type ErrorEvent,
  InvalidArgumentError,
  RedisUnavailableError,
  TimeoutError,
} from '@x/redis-core'
export type { BlockedCacheOptions } from './blocked-cache.js'
export {
  type AcquireResult,
  type ConcurrencyLimiter,
  type ConcurrencyLimiterOptions,
  type ConcurrencyLimiterStats,
  createConcurrencyLimiter,
  type Lease,
  type LeaseTraceContext,
} from './concurrency-limiter.js'
export type { ConcurrencyLimiterEvents, RateLimiterEvents } from './events.js'
export { type HeadersOptions, headers } from './headers.js'
export { type IpKeyOptions, ipKey } from './ip-key.js'
export { MAX_KEY_BYTES } from './key.js'
export {
  createMemoryRateLimiter,
  type FallbackLimiter,
  type MemoryRateLimiter,
  type MemoryRateLimiterEvents,
  type MemoryRateLimiterOptions,
  type MemoryRateLimiterStats,
} from './memory-limiter.js'
export { UNKNOWN_CLIENT_KEY } from './middleware/client-key.js'
export {
  type ExpressLikeRequest,
  type ExpressLikeResponse,
  type ExpressRateLimitOptions,
  expressRateLimit,
} from './middleware/express.js'
export {
  type FastifyLikeInstance,
  type FastifyLikeReply,
  type FastifyLikeRequest,
  type FastifyRateLimitOptions,
  fastifyRateLimit,
} from './middleware/fastify.js'
export { type HonoLikeContext, type HonoRateLimitOptions, honoRateLimit } from './middleware/hono.js'
export { type LimiterLike, type MiddlewareOptions, problemDetails } from './middleware/shared.js'
export { type Algorithm, MAX_FIXED_WINDOW_LIMIT, type Policy, type PolicyOptions } from './policy.js'
export {
  createRateLimiter,
  type FailureMode,
  type LimitOptions,
  type RateLimiter,
  type RateLimiterOptions,
  type RateLimiterStats,
} from './rate-limiter.js'
export type { PolicyResult, RateLimitReason, RateLimitResult } from './result.js'
export type { CheckTraceContext, RateLimitOutcome } from './trace-context.js'
