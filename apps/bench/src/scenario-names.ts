/** Scenario and implementation names shared by the workloads, the goals and the README. */
export const SCENARIO = {
  rateLimitAllowed: 'allowed, 1k keys',
  rateLimitBlocked: 'blocked 90%, no in-memory cache',
  rateLimitBlockedCached: 'blocked 90%, in-memory blocked cache',
  rateLimitTwoPolicies: 'allowed, two policies',
  lockAcquire: 'acquire+release, uncontended',
  lockContended: 'contended, 32 workers on one resource',
  lockContendedThink: 'contended, 32 workers, 1 ms of work between sections',
  cacheL2: 'L2 hit (Redis)',
  cacheL1: 'L1 hit (memory)',
  cacheStampede: 'stampede, cold key',
  sessionRead: 'read with sliding expiry',
  pubsub: 'publish → handler',
  memory: 'MEMORY USAGE',
  tracing: 'tracing channels: nobody listening vs @x/otel listening',
} as const

export const IMPLEMENTATION = {
  get: 'ioredis GET',
  /** Reference columns: what one connection can do when writes are coalesced (the real ceiling). */
  nodeRedisGet: 'node-redis GET',
  autoPipelinedGet: 'ioredis GET (auto-pipelined)',
  xRateLimit: '@x/ratelimit',
  rateLimiterFlexible: 'rate-limiter-flexible',
  xLock: '@x/lock',
  redisSemaphore: 'redis-semaphore',
  redlock: '@sesamecare-oss/redlock',
  xCache: '@x/cache',
  bentocache: 'bentocache',
  cacheManager: 'cache-manager',
  xSession: '@x/session',
  xSessionTouchEveryRead: '@x/session (touch on every read)',
  connectRedisWay: 'ioredis (connect-redis way)',
  xPubSub: '@x/pubsub',
  rawPubSub: 'ioredis',
} as const
