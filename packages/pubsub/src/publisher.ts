import { createRedisCaller, isCluster, type RedisCaller, type RedisClient, slotOf } from '@x/redis-core'
import type { Cluster, Redis } from 'ioredis'
import { assertChannel } from './channel-name.js'

export type PublishCommand = 'publish' | 'spublish'

/**
 * Sends encoded messages through core's Redis caller: the deadline of `redisTimeoutMs` from a
 * shared queue (no timer per publish), errors mapped once, and the publishes of one tick coalesced
 * into one socket write. Channel names already validated are remembered (bounded), so the hot path
 * skips the byte-length and character checks.
 */
export function createPublisher(redis: RedisClient, redisTimeoutMs: number) {
  const callerFor = createPublishRouter(redis, redisTimeoutMs)
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
      return command === 'publish'
        ? callerFor(channel).call<number>('PUBLISH', channel, payload)
        : callerFor(undefined).call<number>('SPUBLISH', channel, payload)
    },
  }
}

/**
 * Picks the caller a PUBLISH goes through. ioredis sends keyless commands such as PUBLISH to a
 * random Cluster node, and messages entering the cluster bus at different nodes can overtake each
 * other, so one publisher's messages on one channel would arrive out of order. Sending every
 * PUBLISH of a channel to the master that owns the channel's hash slot keeps them in order.
 * SPUBLISH (`channel` undefined) goes through the Cluster, which routes it by slot itself.
 */
function createPublishRouter(
  redis: RedisClient,
  timeoutMs: number,
): (channel: string | undefined) => RedisCaller {
  const main = createRedisCaller(redis, { timeoutMs })
  if (!isCluster(redis)) return () => main
  const cluster = redis as Cluster
  const byKey = new Map<string, { node: Redis; caller: RedisCaller }>()
  return (channel) => {
    if (channel === undefined) return main
    const key = cluster.slots[slotOf(channel)]?.[0]
    if (key === undefined) return main
    let known = byKey.get(key)
    if (known === undefined || known.node.status === 'end') {
      const node = cluster
        .nodes('master')
        .find((candidate) => `${candidate.options.host}:${candidate.options.port}` === key)
      if (node === undefined) return main
      known = { node, caller: createRedisCaller(node, { timeoutMs }) }
      byKey.set(key, known)
    }
    return known.caller
  }
}
