import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { Cluster, type ClusterOptions, type Redis } from 'ioredis'
import { redisBinaries } from './binaries.js'
import { type RedisServer, startRedis } from './redis-server.js'

const run = promisify(execFile)

export interface StartReplicatedClusterOptions {
  /** Number of masters, each with one replica. @default 3 */
  masters?: number
  /**
   * `cluster-node-timeout` of every node: how long a silent master takes to be declared failed.
   * @default 2000
   */
  nodeTimeoutMs?: number
}

/** One hash-slot range: its master now and the replica that follows it. */
export interface Shard {
  master: RedisServer
  replica: RedisServer
}

export type FailoverMode = 'graceful' | 'hard'

export interface ReplicatedCluster {
  /** Every node, masters and replicas (roles change with failovers: see `shardOf`). */
  readonly nodes: RedisServer[]
  readonly startupNodes: Array<{ host: string; port: number }>
  /** `host:port,…`, the REDIS_CLUSTER_NODES format. */
  readonly nodesEnv: string
  /** A plain ioredis Cluster client, closed by stop(). */
  client(options?: ClusterOptions): Cluster
  /** The master that serves `key`'s slot now, and its replica. */
  shardOf(key: string): Promise<Shard>
  /**
   * Fails over the shard that serves `key`, and resolves once the cluster is whole again.
   * - `graceful`: `CLUSTER FAILOVER` on the replica (the master hands over after the replica caught up
   *   — what managed Redis does in a maintenance window);
   * - `hard`: the master is killed (SIGKILL); the replica takes over once the others declare the
   *   master failed; then the old master is started again and rejoins as the new master's replica.
   *   Writes the old master had not yet replicated are lost, as in production.
   * Returns the shard as it was before (`master` is now a replica) and the time until the new master
   * answered as master.
   */
  failover(key: string, mode: FailoverMode): Promise<{ before: Shard; promotedAfterMs: number }>
  stop(): Promise<void>
}

/**
 * Starts a real Redis Cluster with a replica per master (3 × 1 by default), for failover tests. Every
 * process is a test-kit server: the same no-orphan guarantees as `startRedis`.
 */
export async function startReplicatedCluster(
  options: StartReplicatedClusterOptions = {},
): Promise<ReplicatedCluster> {
  const masters = options.masters ?? 3
  if (masters < 3) throw new Error('a cluster needs at least 3 masters to elect a replica')
  const nodeTimeout = String(options.nodeTimeoutMs ?? 2000)
  const nodes = await Promise.all(
    Array.from({ length: masters * 2 }, () =>
      startRedis({
        clusterEnabled: true,
        // Failovers are the point: replicas take over at once, with no wait for a data-age check.
        args: ['--cluster-node-timeout', nodeTimeout, '--cluster-replica-validity-factor', '0'],
      }),
    ),
  )
  const clients = new Set<Cluster>()
  const probes = new Map<RedisServer, Redis>()
  const probe = (node: RedisServer) => {
    let client = probes.get(node)
    if (!client) {
      client = node.client({ maxRetriesPerRequest: 1, retryStrategy: () => 100, enableOfflineQueue: true })
      probes.set(node, client)
    }
    return client
  }
  const stopAll = async () => {
    for (const client of clients) client.disconnect()
    clients.clear()
    for (const client of probes.values()) client.disconnect()
    probes.clear()
    await Promise.all(nodes.map((node) => node.stop()))
  }

  try {
    await run(redisBinaries().cli, [
      '--cluster',
      'create',
      ...nodes.map((node) => `${node.host}:${node.port}`),
      '--cluster-replicas',
      '1',
      '--cluster-yes',
    ])
    await waitUntil('every replica linked and cluster_state:ok', 30_000, () => healthy(nodes, probe))
  } catch (error) {
    await stopAll()
    throw error
  }

  const byPort = (port: number) => {
    const node = nodes.find((candidate) => candidate.port === port)
    if (!node) throw new Error(`no test-kit node on port ${port}`)
    return node
  }

  const shardOf = async (key: string): Promise<Shard> => {
    const anyUp = nodes.find((node) => node.running)
    if (!anyUp) throw new Error('no node is running')
    const slot = Number(await probe(anyUp).cluster('KEYSLOT', key))
    const shards = (await probe(anyUp).cluster('SHARDS')) as unknown[]
    for (const shard of shards) {
      const fields = toRecord(shard)
      const slots = fields.slots as number[]
      let owns = false
      for (let index = 0; index < slots.length; index += 2) {
        if (slot >= Number(slots[index]) && slot <= Number(slots[index + 1])) owns = true
      }
      if (!owns) continue
      const members = (fields.nodes as unknown[]).map(toRecord)
      // A replica reports `loading` for a while after a full sync; only `failed` means it is gone.
      const master = members.find((member) => member.role === 'master' && member.health !== 'failed')
      const replica = members.find((member) => member.role === 'replica' && member.health !== 'failed')
      if (!master || !replica) throw new Error(`slot ${slot} has no live master and replica`)
      return { master: byPort(Number(master.port)), replica: byPort(Number(replica.port)) }
    }
    throw new Error(`no shard owns slot ${slot}`)
  }

  const startupNodes = nodes.map(({ host, port }) => ({ host, port }))
  return {
    nodes,
    startupNodes,
    nodesEnv: startupNodes.map(({ host, port }) => `${host}:${port}`).join(','),
    client(clientOptions = {}) {
      const client = new Cluster(startupNodes, clientOptions)
      client.on('error', () => {})
      clients.add(client)
      client.once('end', () => clients.delete(client))
      return client
    },
    shardOf,
    async failover(key, mode) {
      const before = await shardOf(key)
      const started = performance.now()
      if (mode === 'graceful') {
        await probe(before.replica).cluster('FAILOVER')
      } else {
        await before.master.kill()
        probes.get(before.master)?.disconnect()
        probes.delete(before.master)
      }
      await waitUntil(`port ${before.replica.port} to become master`, 30_000, async () => {
        const role = (await probe(before.replica)
          .role()
          .catch(() => [])) as unknown[]
        return role[0] === 'master'
      })
      const promotedAfterMs = performance.now() - started
      if (mode === 'hard') await before.master.restart()
      await waitUntil('the cluster to be whole again', 30_000, () => healthy(nodes, probe))
      return { before, promotedAfterMs }
    },
    stop: stopAll,
  }
}

/** Every node answers, every master has a linked replica, every node says cluster_state:ok. */
async function healthy(nodes: RedisServer[], probe: (node: RedisServer) => Redis): Promise<boolean> {
  try {
    const infos = await Promise.all(
      nodes.map(async (node) => ({
        cluster: String(await probe(node).cluster('INFO')),
        replication: String(await probe(node).info('replication')),
      })),
    )
    if (!infos.every((info) => info.cluster.includes('cluster_state:ok'))) return false
    const replicas = infos.filter((info) => info.replication.includes('role:slave'))
    return (
      replicas.length === nodes.length / 2 &&
      replicas.every((info) => info.replication.includes('master_link_status:up'))
    )
  } catch {
    return false
  }
}

async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (performance.now() < deadline) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
}

/** CLUSTER SHARDS answers flat [name, value, …] lists (RESP2) or maps (RESP3). */
function toRecord(value: unknown): Record<string, unknown> {
  if (value instanceof Map) return Object.fromEntries(value)
  if (Array.isArray(value)) {
    const record: Record<string, unknown> = {}
    for (let index = 0; index < value.length; index += 2) record[String(value[index])] = value[index + 1]
    return record
  }
  return value as Record<string, unknown>
}
