import {
  type RedisServer,
  type ReplicatedCluster,
  settledFailover,
  startReplicatedCluster,
  waitFor,
} from '@x/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Cache, createCache } from './index.js'

/** Ports of the connections subscribed to a channel, per node (CLIENT LIST, `sub=` > 0). */
async function subscribers(cluster: ReplicatedCluster): Promise<Map<string, RedisServer>> {
  const found = new Map<string, RedisServer>()
  for (const node of cluster.nodes) {
    const list = String(await node.client().client('LIST'))
    for (const line of list.split('\n')) {
      if (/ sub=[1-9]/.test(line)) found.set(line.match(/addr=(\S+)/)?.[1] ?? '', node)
    }
  }
  return found
}

describe('the L1 across a Redis Cluster failover', () => {
  let cluster: ReplicatedCluster
  beforeAll(async () => {
    cluster = await startReplicatedCluster()
  }, 120_000)
  afterAll(async () => {
    await cluster?.stop()
  })

  const l1Cache = (): Cache =>
    // An L1 that would keep a value for 10 minutes: only the bus (or its reconnect) can clear it.
    createCache({ redis: cluster.client(), prefix: 'fo', ttlMs: 600_000, l1: { ttlMs: 600_000 } })

  it('an instance whose bus connection dies stops serving the old value once it reconnects', async () => {
    const writer = l1Cache()
    await writer.ready()
    const known = new Set((await subscribers(cluster)).keys())
    const reader = l1Cache()
    await reader.ready()
    const busNode = await waitFor(
      "the reader's bus connection",
      async () => [...(await subscribers(cluster)).entries()].find(([addr]) => !known.has(addr))?.[1],
    )
    // A value key on another shard, so writes succeed while the bus node is down.
    let key = ''
    for (let n = 0; !key; n++) {
      const shard = await cluster.shardOf(`fo:#v:k${n}`)
      if (shard.master !== busNode && shard.replica !== busNode) key = `k${n}`
    }

    expect(await reader.getOrSet(key, () => 'v0')).toBe('v0')
    expect(await writer.get(key)).toBe('v0')
    // Several readers keep hitting the L1 of `reader` through the whole failover.
    let stop = false
    let updatedAt = Number.POSITIVE_INFINITY
    let lastStaleAt = 0
    let reads = 0
    const loops = Array.from({ length: 4 }, async () => {
      while (!stop) {
        const value = await reader.get(key)
        reads++
        if (value === 'v0' && performance.now() > updatedAt) lastStaleAt = performance.now()
        await new Promise((resolve) => setImmediate(resolve))
      }
    })

    try {
      // Kill the node that carries the reader's bus: a hard failover if it is a master, a crash and
      // restart if it is a replica. The update is published while the bus connection is down.
      const probeKey = await (async () => {
        for (let n = 0; ; n++) {
          const shard = await cluster.shardOf(`probe${n}`)
          if (shard.master === busNode || shard.replica === busNode) return `probe${n}`
        }
      })()
      if ((await cluster.shardOf(probeKey)).master === busNode) {
        const failing = settledFailover(cluster, probeKey, 'hard')
        await waitFor('the bus node to die', () => !busNode.running)
        await writer.set(key, 'v1')
        updatedAt = performance.now()
        await failing
      } else {
        await busNode.kill()
        await writer.set(key, 'v1')
        updatedAt = performance.now()
        await busNode.restart()
      }

      const servedNewAt = await waitFor('the reader to serve the new value', async () =>
        (await reader.get(key)) === 'v1' ? performance.now() : 0,
      )
      // The bus works again after the failover: a later update reaches the reader's L1 at once.
      await writer.set(key, 'v2')
      await waitFor('the reader to see a later update', async () => (await reader.get(key)) === 'v2')
      stop = true
      await Promise.all(loops)
      expect(lastStaleAt).toBeLessThanOrEqual(servedNewAt)
      console.info(
        `cache L1 across a failover of its bus node: ${reads} reads; old value served ` +
          `${Math.round(Math.max(0, lastStaleAt - updatedAt))} ms after the update (until the bus reconnected and cleared L1)`,
      )
    } finally {
      stop = true
      await Promise.all(loops)
      await reader.close()
      await writer.close()
    }
  }, 120_000)
})
