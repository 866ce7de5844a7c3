import { createDeadlineQueue, isCluster, type RedisClient, toRedisError } from '@x/redis-core'

/**
 * Wraps a store's Redis calls in its per-operation timeout. A standalone ioredis client with a
 * `commandTimeout` no longer than ours already fails every command in time (its timer starts
 * before the offline queue), so a second timer per call would only cost the hot path; there we
 * just map errors. A Cluster queues commands before a node's timer starts, so it always gets ours.
 */
export function createRedisCaller(
  redis: RedisClient,
  timeoutMs: number,
  label: string,
): <T>(what: string, promise: Promise<T>) => Promise<T> {
  const clientTimeout = isCluster(redis)
    ? undefined
    : (redis.options as { commandTimeout?: unknown }).commandTimeout
  const enforcedByClient =
    typeof clientTimeout === 'number' && clientTimeout > 0 && clientTimeout <= timeoutMs
  if (!enforcedByClient) {
    // One shared timer for every call of the store rather than a setTimeout per call.
    const deadlines = createDeadlineQueue(timeoutMs)
    return (what, promise) => deadlines.run(promise, `${label} ${what}`)
  }
  return (_what, promise) =>
    promise.catch((error: unknown) => {
      throw toRedisError(error)
    })
}
