// Helpers shared by this package's tests (not exported from the package).
import { isCluster, type RedisClient, waitForReady } from '@x/redis-core'
import type { Cluster, Redis } from 'ioredis'
import { createPubSub, type PubSub } from './create-pubsub.js'
import type { PubSubEvents, PubSubOptions } from './types.js'

async function nodesOf(client: Redis | Cluster): Promise<Redis[]> {
  await waitForReady(client as RedisClient, 10_000)
  return isCluster(client as RedisClient) ? (client as Cluster).nodes('master') : [client as Redis]
}

/** PUBSUB NUMSUB of one channel, summed over every master (a Cluster node only counts its own clients). */
export async function numsub(client: Redis | Cluster, channel: string): Promise<number> {
  let total = 0
  for (const node of await nodesOf(client)) {
    const reply = (await node.call('PUBSUB', 'NUMSUB', channel)) as [string, number]
    total += Number(reply[1])
  }
  return total
}

/** PUBSUB SHARDNUMSUB of one sharded channel, summed over every master. */
export async function shardNumsub(client: Redis | Cluster, channel: string): Promise<number> {
  let total = 0
  for (const node of await nodesOf(client)) {
    const reply = (await node.call('PUBSUB', 'SHARDNUMSUB', channel)) as [string, number]
    total += Number(reply[1])
  }
  return total
}

/** PUBSUB NUMPAT summed over every master. Global to a server: only meaningful on a private one. */
export async function numpat(client: Redis | Cluster): Promise<number> {
  let total = 0
  for (const node of await nodesOf(client)) total += Number(await node.call('PUBSUB', 'NUMPAT'))
  return total
}

/** Collects messages and lets a test wait for a count. */
export function collector<T = unknown>(): { messages: T[]; handler: (message: T) => void } {
  const messages: T[] = []
  return { messages, handler: (message: T) => void messages.push(message) }
}

/** CLIENT LIST of every master, concatenated. */
export async function clientList(client: Redis | Cluster): Promise<string> {
  const lists: string[] = []
  for (const node of await nodesOf(client)) lists.push(String(await node.call('CLIENT', 'LIST')))
  return lists.join('\n')
}

type Listeners = { [K in keyof PubSubEvents]?: (payload: PubSubEvents[K]) => void }

/** createPubSub with event listeners attached before anything can be emitted. */
export function createListened(options: PubSubOptions, listeners: Listeners = {}): PubSub {
  const pubsub = createPubSub(options)
  for (const [event, listener] of Object.entries(listeners))
    pubsub.on(event as keyof PubSubEvents, listener as (payload: unknown) => void)
  return pubsub
}
