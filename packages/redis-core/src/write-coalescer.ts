import type { Cluster, Redis } from 'ioredis'
import { isCluster } from './cluster.js'
import type { RedisClient } from './create-redis.js'

interface Corkable {
  cork(): void
  uncork(): void
}

/**
 * Call before sending a command. The first call in a tick is written at once; the second corks the
 * socket of the connection (on a Cluster: of every node connection that is ready) and a
 * `process.nextTick` uncorks what it corked, so the commands started in one tick (e.g. every caller
 * resumed by one batch of replies) leave in one write per socket instead of one system call each.
 * Every `batch` calls per corked socket the sockets are flushed and corked again, so that Redis
 * starts on the first commands while the rest are being prepared. A lone call is never corked, and
 * no call waits past the end of its tick for I/O or a timer.
 *
 * On a Cluster this relies on ioredis writing a command to its node's socket synchronously inside
 * `sendCommand` when the cluster and the node are ready (ioredis 6.0.0: built/cluster/index.js,
 * `Cluster#sendCommand` ends in `redis.sendCommand(command, stream)`, line 628; built/Redis.js,
 * `Redis#sendCommand` calls `this.stream.write(...)`, line 447; built/utils/Commander.js line 90
 * calls `sendCommand` directly when auto-pipelining is off). Whatever happens to a command after
 * that — a MOVED or ASK answer that ioredis re-sends to another node, a node's or the cluster's
 * offline queue, a connection that closes — the corks taken here are released in the same
 * nextTick: the coalescer uncorks the sockets it corked, never "the node a key maps to now", so a
 * re-sent command can at worst wait for the end of the current tick. Node connections that are not
 * ready (connecting, created by a MOVED answer) are never corked. With auto-pipelining on, ioredis
 * writes later (setImmediate) and the cork simply covers nothing.
 */
export type WriteCoalescer = () => void

const coalescers = new WeakMap<RedisClient, WriteCoalescer>()

/** The coalescer of `redis`, shared by every caller of the client. @param batch flush every this many calls per socket */
export function writeCoalescer(redis: RedisClient, batch = 16): WriteCoalescer {
  let coalescer = coalescers.get(redis)
  if (!coalescer) {
    coalescer = createWriteCoalescer(isCluster(redis) ? readyNodeStreams(redis) : ownStream(redis), batch)
    coalescers.set(redis, coalescer)
  }
  return coalescer
}

/** The sockets a tick's writes may go to, or nothing when the client is not ready to write. */
type SocketsOf = () => readonly Corkable[] | undefined

function corkable(redis: Redis): Corkable | undefined {
  if (redis.status !== 'ready') return undefined
  const stream = (redis as unknown as { stream?: Partial<Corkable> }).stream
  if (typeof stream?.cork !== 'function' || typeof stream.uncork !== 'function') return undefined
  return stream as Corkable
}

function ownStream(redis: Redis): SocketsOf {
  return () => {
    const stream = corkable(redis)
    return stream && [stream]
  }
}

function readyNodeStreams(cluster: Cluster): SocketsOf {
  return () => {
    // Before the cluster is ready, ioredis queues commands in its own offline queue.
    if (cluster.status !== 'ready') return undefined
    const streams: Corkable[] = []
    for (const node of cluster.nodes('all')) {
      const stream = corkable(node)
      if (stream) streams.push(stream)
    }
    return streams.length > 0 ? streams : undefined
  }
}

function createWriteCoalescer(socketsOf: SocketsOf, batch: number): WriteCoalescer {
  // Whether a call was made in this tick; the sockets corked for the rest of it.
  let seen = false
  let corked: readonly Corkable[] | undefined
  let held = 0
  let flushAt = batch
  const release = () => {
    seen = false
    const streams = corked
    corked = undefined
    if (streams) for (const stream of streams) stream.uncork()
  }
  return () => {
    if (corked !== undefined) {
      if (++held >= flushAt) {
        held = 0
        for (const stream of corked) {
          stream.uncork()
          stream.cork()
        }
      }
      return
    }
    // The first call of a tick is written at once, uncorked: a lone call costs no cork, and Redis
    // starts on the first command of a batch while the rest are being prepared.
    if (!seen) {
      seen = true
      process.nextTick(release)
      return
    }
    const streams = socketsOf()
    if (!streams) return
    corked = streams
    held = 1
    // The calls of a tick spread over the nodes: about `batch` per socket between flushes.
    flushAt = batch * streams.length
    for (const stream of streams) stream.cork()
  }
}
