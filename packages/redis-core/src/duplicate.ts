import type { ClusterOptions, RedisOptions } from 'ioredis'
import { isCluster } from './cluster.js'
import type { RedisClient } from './create-redis.js'

/**
 * A second connection with the same settings, for subscribers and blocking reads. `overrides` are
 * RedisOptions for a `Redis` and ClusterOptions (e.g. `shardedSubscribers`) for a `Cluster`.
 *
 * `duplicate()` copies the options of a client made by `createRedis`, including the offline queue
 * that was switched off after its first connect, so a SUBSCRIBE sent before the copy connects would
 * fail. This turns it back on for the copy's first connect and off again once it is ready, as
 * `createRedis` does.
 */
export function duplicateClient<T extends RedisClient>(
  client: T,
  overrides: RedisOptions | ClusterOptions = {},
): T {
  const options = { ...overrides, enableOfflineQueue: true }
  const copy = (
    isCluster(client)
      ? client.duplicate(undefined, options as ClusterOptions)
      : client.duplicate(options as RedisOptions)
  ) as T
  copy.once('ready', () => {
    copy.options.enableOfflineQueue = false
  })
  return copy
}
