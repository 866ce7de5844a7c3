import type { RedisClient } from './create-redis.js'
import { toRedisError } from './redis-error.js'

/** The Redis server clock in milliseconds (TIME). Use it, not Date.now(), to compare times across processes. */
export async function serverTime(client: RedisClient): Promise<number> {
  try {
    const [seconds, micros] = (await client.time()) as [string | number, string | number]
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
  } catch (error) {
    throw toRedisError(error)
  }
}

/** PING with its round-trip latency. Rejects with a typed error when Redis is away or slow. */
export async function ping(client: RedisClient): Promise<{ latencyMs: number }> {
  const started = performance.now()
  try {
    await client.ping()
  } catch (error) {
    throw toRedisError(error)
  }
  return { latencyMs: performance.now() - started }
}
