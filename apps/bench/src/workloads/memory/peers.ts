import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible'
import { IMPLEMENTATION } from '../../scenario-names.js'
import { IDLE_TIMEOUT_MS, SESSION_DATA } from '../session/families.js'
import { type MemoryProbe, PROBE_LIMIT, PROBE_WINDOW_MS } from './families.js'
import { drive, footprint } from './footprint.js'

export const peerProbes: MemoryProbe[] = [
  {
    implementation: IMPLEMENTATION.rateLimiterFlexible,
    what: 'rate-limit key (fixed window counter)',
    async measure(context) {
      const keyPrefix = context.prefix('mem')
      const limiter = new RateLimiterRedis({
        storeClient: context.redis,
        keyPrefix,
        points: PROBE_LIMIT,
        duration: PROBE_WINDOW_MS / 1000,
      })
      await drive(context.settings.memoryRequests, () =>
        limiter.consume('client-1').catch((rejection: unknown) => {
          if (!(rejection instanceof RateLimiterRes)) throw rejection
        }),
      )
      return footprint(context.redis, keyPrefix)
    },
  },
  {
    implementation: IMPLEMENTATION.connectRedisWay,
    what: 'session (connect-redis JSON with cookie)',
    async measure(context) {
      const keyPrefix = context.prefix('mem')
      const session = {
        cookie: { originalMaxAge: IDLE_TIMEOUT_MS, expires: new Date(), httpOnly: true, path: '/' },
        ...SESSION_DATA,
      }
      // connect-redis keys are sess:<express-session id> (24 random bytes, base64url).
      await context.redis.set(
        `${keyPrefix}:sess:Xv3bJkq0aZl1O8Nf2c7Rr9TtYyUuIiOp`,
        JSON.stringify(session),
        'PX',
        IDLE_TIMEOUT_MS,
      )
      return footprint(context.redis, keyPrefix)
    },
  },
]
