import type { ReplicatedCluster, Shard } from './replicated-cluster.js'
import { settledShard } from './settled-shard.js'

/**
 * A hard failover that loses exactly the writes made during `writes()`: the replica of `key`'s shard
 * is stopped (SIGSTOP) and cut from its master (`CLIENT KILL TYPE replica`), `writes()` runs against
 * the master, the master is killed, the replica resumes and is promoted without them. This is the
 * worst case of asynchronous replication made deterministic (a replica that lagged by exactly those
 * writes), rather than hoping a race loses some. The old master then rejoins as a replica.
 *
 * Stopping the replica alone would not do: the master's replication stream would already sit in the
 * replica's socket buffer and be applied on resume.
 */
export async function lossyFailover<T>(
  cluster: ReplicatedCluster,
  key: string,
  writes: () => Promise<T>,
): Promise<{ before: Shard; result: T; promotedAfterMs: number }> {
  const before = await settledShard(cluster, key)
  const master = before.master.client({ maxRetriesPerRequest: 0, enableOfflineQueue: false })
  const replica = before.replica.client({ maxRetriesPerRequest: 1, retryStrategy: () => 100 })
  await replica.ping()
  let resumed = false
  try {
    before.replica.pause()
    await master.call('CLIENT', 'KILL', 'TYPE', 'replica')
    const result = await writes()
    await before.master.kill()
    before.replica.resume()
    resumed = true
    const started = performance.now()
    await waitFor(`port ${before.replica.port} to become master`, async () => {
      const role = (await replica.role().catch(() => [])) as unknown[]
      return role[0] === 'master'
    })
    const promotedAfterMs = performance.now() - started
    await before.master.restart()
    const rejoined = before.master.client({ maxRetriesPerRequest: 1, retryStrategy: () => 100 })
    await waitFor('the old master to rejoin as a replica', async () => {
      const now = await cluster.shardOf(key).catch(() => undefined)
      if (now?.replica.port !== before.master.port) return false
      const info = await rejoined.info('replication').catch(() => '')
      return info.includes('master_link_status:up')
    })
    rejoined.disconnect()
    return { before, result, promotedAfterMs }
  } finally {
    if (!resumed) before.replica.resume()
    master.disconnect()
    replica.disconnect()
  }
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (performance.now() < deadline) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
}
