import { guard } from '../../harness/runner.js'
import { IMPLEMENTATION } from '../../scenario-names.js'
import { IDLE_TIMEOUT_MS, SESSION_COUNT, SESSION_DATA, type SessionFamily } from './families.js'

const implementation = IMPLEMENTATION.connectRedisWay

/**
 * What express-session + connect-redis do per request, written with raw ioredis (connect-redis 9
 * dropped ioredis): GET sess:<id> and JSON.parse in the store's get(), then PEXPIRE in touch() at
 * the end of the request. Two round trips, one after the other.
 */
export const connectRedisWay: SessionFamily = {
  implementation,
  read: guard(implementation, async ({ redis, prefix }) => {
    const keyPrefix = prefix('connect-redis')
    const keys = Array.from({ length: SESSION_COUNT }, (_, index) => `${keyPrefix}:sess:${index}`)
    const now = Date.now()
    const pipeline = redis.pipeline()
    for (const key of keys) {
      const session = {
        cookie: {
          originalMaxAge: IDLE_TIMEOUT_MS,
          expires: new Date(now + IDLE_TIMEOUT_MS),
          httpOnly: true,
          path: '/',
        },
        ...SESSION_DATA,
      }
      pipeline.set(key, JSON.stringify(session), 'PX', IDLE_TIMEOUT_MS)
    }
    await pipeline.exec()
    return {
      implementation,
      operation: async (_worker, iteration) => {
        const key = keys[iteration % SESSION_COUNT]!
        const text = await redis.get(key)
        if (text === null) throw new Error(`session ${key} is missing`)
        const session = JSON.parse(text) as { userId: string }
        await redis.pexpire(key, IDLE_TIMEOUT_MS)
        return session
      },
    }
  }),
}
