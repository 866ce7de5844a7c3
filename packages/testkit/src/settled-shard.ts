import type { FailoverMode, ReplicatedCluster, Shard } from './replicated-cluster.js'

/**
 * `key`'s shard once the nodes agree on it: right after a failover, the node that answers
 * `CLUSTER SHARDS` may not have heard of the new roles yet (no live replica listed, or the old
 * roles), and a failover started from that view would kill the wrong node or none. Waits until the
 * listed master says it is a master and the listed replica follows it.
 */
export async function settledShard(
  cluster: ReplicatedCluster,
  key: string,
  timeoutMs = 30_000,
): Promise<Shard> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const shard = await cluster.shardOf(key).catch(() => undefined)
    if (shard && (await agrees(shard))) return shard
    if (performance.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${key}'s shard`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** `cluster.failover(key, mode)` once the cluster agrees on `key`'s shard (see `settledShard`). */
export async function settledFailover(cluster: ReplicatedCluster, key: string, mode: FailoverMode) {
  await settledShard(cluster, key)
  return cluster.failover(key, mode)
}

async function agrees({ master, replica }: Shard): Promise<boolean> {
  const options = { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: false }
  const masterClient = master.client(options)
  const replicaClient = replica.client(options)
  try {
    const masterRole = (await masterClient.role()) as unknown[]
    const replicaRole = (await replicaClient.role()) as unknown[]
    return masterRole[0] === 'master' && replicaRole[0] === 'slave' && Number(replicaRole[2]) === master.port
  } catch {
    return false
  } finally {
    masterClient.disconnect()
    replicaClient.disconnect()
  }
}
