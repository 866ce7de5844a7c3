import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ReplicatedCluster, startReplicatedCluster } from './replicated-cluster.js'
import { settledFailover, settledShard } from './settled-shard.js'

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('startReplicatedCluster', () => {
  let cluster: ReplicatedCluster
  beforeAll(async () => {
    cluster = await startReplicatedCluster()
  }, 120_000)
  afterAll(async () => {
    const pids = cluster.nodes.map((node) => node.pid)
    await cluster.stop()
    // The same no-orphan guarantee as every test-kit server.
    expect(pids.filter(alive)).toEqual([])
  })

  it('starts 3 masters, each with a linked replica', async () => {
    expect(cluster.nodes).toHaveLength(6)
    const roles = await Promise.all(
      cluster.nodes.map(
        async (node) => String(await node.client().info('replication')).match(/role:(\w+)/)?.[1],
      ),
    )
    expect(roles.filter((role) => role === 'master')).toHaveLength(3)
    expect(roles.filter((role) => role === 'slave')).toHaveLength(3)
  })

  it('a graceful failover swaps master and replica and keeps every acknowledged write', async () => {
    const client = cluster.client()
    await client.set('{graceful}:k', 'v1')
    const { before } = await cluster.failover('{graceful}:k', 'graceful')
    const after = await cluster.shardOf('{graceful}:k')
    expect(after.master.port).toBe(before.replica.port)
    expect(after.replica.port).toBe(before.master.port)
    expect(await client.get('{graceful}:k')).toBe('v1')
  }, 120_000)

  it('back-to-back graceful failovers of one shard each swap master and replica', async () => {
    // Each failover starts as soon as the previous one returned: the moment Redis used to drop a
    // manual failover (master not yet aware of its new replica, or a replica holding the votes of
    // its last election).
    const key = '{back-to-back}:k'
    for (let round = 0; round < 4; round++) {
      const { before } = await settledFailover(cluster, key, 'graceful')
      const after = await settledShard(cluster, key)
      expect(after.master.port).toBe(before.replica.port)
      expect(after.replica.port).toBe(before.master.port)
    }
  }, 180_000)

  it('a hard failover promotes the replica; the killed master comes back as its replica', async () => {
    const client = cluster.client()
    await client.set('{hard}:k', 'replicated')
    // WAIT makes the write reach the replica before the master dies, so it must survive.
    const master = (await cluster.shardOf('{hard}:k')).master
    expect(await master.client().wait(1, 5000)).toBe(1)
    const oldPid = master.pid
    const { before } = await cluster.failover('{hard}:k', 'hard')
    expect(before.master.pid).not.toBe(oldPid)
    const after = await cluster.shardOf('{hard}:k')
    expect(after.master.port).toBe(before.replica.port)
    expect(after.replica.port).toBe(before.master.port)
    expect(await client.get('{hard}:k')).toBe('replicated')
  }, 120_000)
})
