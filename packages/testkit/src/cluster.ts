import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { Cluster, type ClusterOptions } from 'ioredis'
import { redisBinaries } from './binaries.js'
import { type RedisServer, startRedis } from './redis-server.js'

const run = promisify(execFile)

export interface StartClusterOptions {
  /** Number of masters; slots are split evenly. @default 3 */
  masters?: number
}

export interface RedisCluster {
  /** One handle per master, for fault injection (pause, restart, kill). */
  readonly nodes: RedisServer[]
  /** Seed nodes for `new Cluster(...)` or REDIS_CLUSTER_NODES. */
  readonly startupNodes: Array<{ host: string; port: number }>
  /** `host:port,host:port`, the REDIS_CLUSTER_NODES format. */
  readonly nodesEnv: string
  /** A plain ioredis Cluster client, closed by stop(). */
  client(options?: ClusterOptions): Cluster
  stop(): Promise<void>
}

/** Starts a real Redis Cluster: N cluster-enabled servers joined with `redis-cli --cluster create`. */
export async function startCluster(options: StartClusterOptions = {}): Promise<RedisCluster> {
  const count = options.masters ?? 3
  if (count < 3) throw new Error('redis-cli --cluster create needs at least 3 masters')
  const nodes = await Promise.all(Array.from({ length: count }, () => startRedis({ clusterEnabled: true })))
  const clients = new Set<Cluster>()
  try {
    await run(redisBinaries().cli, [
      '--cluster',
      'create',
      ...nodes.map((node) => `${node.host}:${node.port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ])
    await waitForClusterOk(nodes)
  } catch (error) {
    await Promise.all(nodes.map((node) => node.stop()))
    throw error
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
    async stop() {
      for (const client of clients) client.disconnect()
      clients.clear()
      await Promise.all(nodes.map((node) => node.stop()))
    },
  }
}

async function waitForClusterOk(nodes: RedisServer[], timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  const probes = nodes.map((node) => node.client({ lazyConnect: false, maxRetriesPerRequest: 1 }))
  try {
    while (Date.now() < deadline) {
      const states = await Promise.all(
        probes.map((probe) =>
          probe.cluster('INFO').then(
            (info) => String(info).includes('cluster_state:ok'),
            () => false,
          ),
        ),
      )
      if (states.every(Boolean)) return
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    throw new Error(`cluster did not reach cluster_state:ok within ${timeoutMs} ms`)
  } finally {
    for (const probe of probes) probe.disconnect()
  }
}
