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
   *   — what managed Redis does in a maintenance window). Sent once the replica is in sync and every
   *   node knows it as the master's replica, at least ~8.5 s (with the default node timeout) after
   *   that replica last won an election, and sent again if Redis dropped it, so back-to-back
   *   failovers of one shard each swap the roles (never FORCE);
   * - `hard`: the master is killed (SIGKILL); the replica takes over once the others declare the
   *   master failed; then the old master is started again and rejoins as the new master's replica.
   *   Writes the old master had not yet replicated are lost, as in production.
   * Returns the shard as it was before (`master` is now a replica) and the time until the new master
   * answered as master (graceful: from the `CLUSTER FAILOVER` that succeeded; it is sent once the
   * replica is in sync and every node knows it as the master's replica, and sent again if Redis
   * dropped it).
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
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 2000
  const nodeTimeout = String(nodeTimeoutMs)
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

  // When each node last won an election (a failover made it master), for `handOver`.
  const promotedAt = new Map<RedisServer, number>()

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
      let promotedAfterMs: number | undefined
      if (mode === 'graceful') {
        promotedAfterMs = await handOver(before, { nodes, probe, promotedAt, nodeTimeoutMs })
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
      promotedAfterMs ??= performance.now() - started
      promotedAt.set(before.replica, performance.now())
      if (mode === 'hard') await before.master.restart()
      await waitUntil('the cluster to be whole again', 30_000, () => healthy(nodes, probe))
      return { before, promotedAfterMs }
    },
    stop: stopAll,
  }
}

/**
 * Waits a failover takes at most: Redis aborts a manual failover that has not completed after
 * 5 s (CLUSTER_MF_TIMEOUT) with only "Manual failover timed out." in its log; this leaves room.
 */
const MANUAL_FAILOVER_WAIT_MS = 7000

interface HandOverContext {
  nodes: RedisServer[]
  probe: (node: RedisServer) => Redis
  promotedAt: Map<RedisServer, number>
  nodeTimeoutMs: number
}

/**
 * `CLUSTER FAILOVER` on the replica, made reliable. Redis answers OK and then loses a manual
 * failover in three ways when it starts before the shard settled from a previous failover:
 * - the master ignores the replica's request while its cluster view does not list that node as its
 *   replica yet (up to a gossip round after the roles changed); the replica logs "Manual failover
 *   timed out." 5 s later;
 * - the replication link is reset during the hand-over (a full resync), so the offsets never match:
 *   the same time-out;
 * - a replica that won an election less than 2 × max(2 × cluster-node-timeout, 2 s) ago (8 s by
 *   default) still holds that election's votes: Redis 7.0 declares it the winner at once with the old
 *   epoch ("Failover election won" with no "Starting a failover election"), and the master, whose
 *   epoch is higher, takes the slots back a moment later.
 * So this waits until the replica is linked and in sync, every node lists it as the master's
 * replica (the masters vote) and its last election is old enough; sends the failover; and checks
 * that the new roles hold in every node's view, sending it again if not. Resolves with the time from
 * the failover that succeeded to the replica answering as master (the hand-over, not the waits).
 * Never FORCE: that would skip the hand-over a graceful failover stands for (the master's writes
 * paused until the replica caught up).
 */
async function handOver(shard: Shard, context: HandOverContext): Promise<number> {
  const { probe, promotedAt, nodeTimeoutMs } = context
  const electionStateMs = 2 * Math.max(2 * nodeTimeoutMs, 2000) + 500
  const deadline = performance.now() + 90_000
  for (let attempt = 1; ; attempt++) {
    const remainingMs = () => Math.max(deadline - performance.now(), 1)
    await waitUntil(`port ${shard.replica.port} to be ready to take over`, remainingMs(), () =>
      readyToTakeOver(shard, context),
    )
    const lastWon = promotedAt.get(shard.replica)
    if (lastWon !== undefined) await sleep(lastWon + electionStateMs - performance.now())
    const sentAt = performance.now()
    await probe(shard.replica).cluster('FAILOVER')
    const swapped = { master: shard.replica, replica: shard.master }
    let answeredAsMasterAt: number | undefined
    const held = await waitUntil(
      `port ${shard.replica.port} to become master`,
      MANUAL_FAILOVER_WAIT_MS,
      async () => {
        const role = (await probe(shard.replica)
          .role()
          .catch(() => [])) as unknown[]
        if (role[0] !== 'master') return false
        answeredAsMasterAt ??= performance.now()
        return listedAsReplica(swapped, context)
      },
    ).then(
      () => true,
      () => false,
    )
    if (held && answeredAsMasterAt !== undefined) return answeredAsMasterAt - sentAt
    if (performance.now() > deadline)
      throw new Error(
        `CLUSTER FAILOVER on port ${shard.replica.port} did not promote it after ${attempt} tries`,
      )
  }
}

/** The replica is linked, not syncing, and every node lists it as the master's replica. */
async function readyToTakeOver(shard: Shard, context: HandOverContext): Promise<boolean> {
  const { master, replica } = shard
  try {
    const replication = String(await context.probe(replica).info('replication'))
    if (
      !replication.includes('role:slave') ||
      !replication.includes(`master_port:${master.port}`) ||
      !replication.includes('master_link_status:up') ||
      !replication.includes('master_sync_in_progress:0')
    )
      return false
    return await listedAsReplica(shard, context)
  } catch {
    return false
  }
}

/** Every running node's CLUSTER NODES lists `replica` as a healthy replica of `master`. */
async function listedAsReplica(
  { master, replica }: Shard,
  { nodes, probe }: HandOverContext,
): Promise<boolean> {
  try {
    const masterId = String(await probe(master).cluster('MYID'))
    const replicaId = String(await probe(replica).cluster('MYID'))
    const views = await Promise.all(
      nodes.filter((node) => node.running).map(async (node) => String(await probe(node).cluster('NODES'))),
    )
    // `<id> <addr> <flags> <master id> …` in every node's view (the masters vote); a flag such as
    // fail?, fail or handshake beside `slave` means not settled.
    return views.every((view) => {
      const fields = nodeLine(view, replicaId)
      const flags = fields?.[2]?.split(',') ?? []
      return (
        flags.includes('slave') &&
        flags.every((flag) => flag === 'slave' || flag === 'myself') &&
        fields?.[3] === masterId
      )
    })
  } catch {
    return false
  }
}

function nodeLine(view: string, id: string): string[] | undefined {
  return view
    .split('\n')
    .find((line) => line.startsWith(`${id} `))
    ?.split(' ')
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(ms, 0)))
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
