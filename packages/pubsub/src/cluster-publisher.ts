import { isCluster, type RedisClient, slotOf } from '@x/redis-core'
import type { Cluster, Redis } from 'ioredis'

/**
 * Picks the connection a PUBLISH goes through. ioredis sends keyless commands such as PUBLISH to a
 * random Cluster node, and messages entering the cluster bus at different nodes can overtake each
 * other, so one publisher's messages on one channel would arrive out of order. Sending every
 * PUBLISH of a channel to the master that owns the channel's hash slot keeps them in order.
 */
export function createPublishRouter(redis: RedisClient): (channel: string) => RedisClient {
  if (!isCluster(redis)) return () => redis
  const cluster = redis as Cluster
  const byKey = new Map<string, Redis>()
  return (channel) => {
    const key = cluster.slots[slotOf(channel)]?.[0]
    if (key === undefined) return cluster
    let node = byKey.get(key)
    if (node === undefined || node.status === 'end') {
      node = cluster
        .nodes('master')
        .find((candidate) => `${candidate.options.host}:${candidate.options.port}` === key)
      if (node === undefined) return cluster
      byKey.set(key, node)
    }
    return node
  }
}
