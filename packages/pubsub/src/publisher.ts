import { isCluster, type RedisClient, redisCall, slotOf, toRedisError } from '@x/redis-core'
import type { Cluster, Redis } from 'ioredis'
import { assertChannel } from './channel-name.js'

export type PublishCommand = 'publish' | 'spublish'

/**
 * Sends encoded messages. Channel names already validated are remembered (bounded), so the hot
 * path skips the byte-length and character checks.
 */
export function createPublisher(redis: RedisClient, redisTimeoutMs: number) {
  const call = makeCaller(redis, redisTimeoutMs)
  const publisherFor = createPublishRouter(redis)
  const validChannels = new Set<string>()
  return {
    /** Throws InvalidArgumentError for a bad name (callers turn it into a rejection). */
    check(channel: string): void {
      if (validChannels.has(channel)) return
      assertChannel('channel', channel)
      // Bounded: a service publishing to unbounded distinct names just revalidates.
      if (validChannels.size >= 4096) validChannels.clear()
      validChannels.add(channel)
    },
    send(command: PublishCommand, channel: string, payload: string | Buffer): Promise<number> {
      const client = command === 'publish' ? publisherFor(channel) : redis
      return call(
        client[command](channel, payload) as Promise<number>,
        command === 'publish' ? 'PUBLISH' : 'SPUBLISH',
      )
    },
  }
}

/**
 * When the client already enforces a command timeout (createRedis does), a second timer per publish
 * only costs throughput; otherwise wrap each call with our own.
 */
function makeCaller(
  redis: RedisClient,
  timeoutMs: number,
): <T>(promise: Promise<T>, what: string) => Promise<T> {
  const own = isCluster(redis)
    ? (redis as Cluster).options.redisOptions?.commandTimeout
    : (redis as Redis).options.commandTimeout
  if (own !== undefined && own > 0 && own <= timeoutMs) {
    return (promise) =>
      promise.catch((error: unknown) => {
        throw toRedisError(error)
      })
  }
  return (promise, what) => redisCall(promise, timeoutMs, what)
}

/**
 * Picks the connection a PUBLISH goes through. ioredis sends keyless commands such as PUBLISH to a
 * random Cluster node, and messages entering the cluster bus at different nodes can overtake each
 * other, so one publisher's messages on one channel would arrive out of order. Sending every
 * PUBLISH of a channel to the master that owns the channel's hash slot keeps them in order.
 */
function createPublishRouter(redis: RedisClient): (channel: string) => RedisClient {
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
