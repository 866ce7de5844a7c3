import type { RedisClient } from './create-redis.js'
import { toRedisError } from './redis-error.js'
import { withTimeout } from './timeout.js'
import { assertPositive } from './validate.js'

export interface HelperCallOptions {
  /**
   * Deadline of the call in milliseconds, whatever the client's own `commandTimeout` is (a client
   * without one would otherwise wait forever on a paused server). Rejects with `TimeoutError`.
   * @default 1000
   */
  timeoutMs?: number
}

/**
 * The Redis server clock in milliseconds (TIME). Use it, not Date.now(), to compare times across
 * processes. Rejects with `TimeoutError` or `RedisUnavailableError` when Redis is slow or away.
 */
export async function serverTime(client: RedisClient, options: HelperCallOptions = {}): Promise<number> {
  const timeoutMs = assertPositive('timeoutMs', options.timeoutMs ?? 1000)
  try {
    const [seconds, micros] = (await withTimeout(client.time(), timeoutMs, 'TIME')) as [
      string | number,
      string | number,
    ]
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
  } catch (error) {
    throw toRedisError(error, client)
  }
}

/** PING with its round-trip latency. Rejects with a typed error when Redis is away or slower than `timeoutMs`. */
export async function ping(
  client: RedisClient,
  options: HelperCallOptions = {},
): Promise<{ latencyMs: number }> {
  const timeoutMs = assertPositive('timeoutMs', options.timeoutMs ?? 1000)
  const started = performance.now()
  try {
    await withTimeout(client.ping(), timeoutMs, 'PING')
  } catch (error) {
    throw toRedisError(error, client)
  }
  return { latencyMs: performance.now() - started }
}
