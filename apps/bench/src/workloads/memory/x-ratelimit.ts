import { createRateLimiter } from '@x/ratelimit'
import { IMPLEMENTATION } from '../../scenario-names.js'
import { type MemoryProbe, PROBE_LIMIT, PROBE_WINDOW_MS } from './families.js'
import { drive, footprint } from './footprint.js'

const ALGORITHMS = ['gcra', 'sliding-window', 'fixed-window', 'sliding-log'] as const

export const xRateLimitProbes: MemoryProbe[] = ALGORITHMS.map((algorithm) => ({
  implementation: IMPLEMENTATION.xRateLimit,
  what: `rate-limit key (${algorithm})`,
  async measure(context) {
    const prefix = context.prefix('mem')
    const limiter = createRateLimiter({
      redis: context.redis,
      prefix,
      algorithm,
      limit: PROBE_LIMIT,
      windowMs: PROBE_WINDOW_MS,
      failureMode: 'throw',
    })
    await drive(context.settings.memoryRequests, () => limiter.limit('client-1'))
    return footprint(context.redis, prefix)
  },
}))
