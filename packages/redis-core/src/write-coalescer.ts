import { isCluster } from './cluster.js'
import type { RedisClient } from './create-redis.js'

interface Corkable {
  cork(): void
  uncork(): void
}

/**
 * Call before sending a command: the first call in a tick corks the connection's socket and a
 * `process.nextTick` uncorks it, so the commands started in one tick (e.g. every caller resumed by
 * one batch of replies) leave in one write instead of one system call each. Every `batch` calls the
 * socket is flushed and corked again, so that Redis starts on the first commands while the rest
 * are being prepared. A lone call is written before the event loop moves on (the next tick), so
 * nothing ever waits for I/O or a timer.
 *
 * Only on a standalone `Redis` that is ready. A Cluster is left uncorked: its commands are routed
 * over one socket per node and may be re-sent by ioredis after a MOVED or ASK redirection, so a
 * cork taken on the node the key maps to now cannot be known to cover the write.
 */
export type WriteCoalescer = () => void

const coalescers = new WeakMap<RedisClient, WriteCoalescer>()

const noop: WriteCoalescer = () => {}

/** The coalescer of `redis`, shared by every caller of the client. @param batch flush every this many calls */
export function writeCoalescer(redis: RedisClient, batch = 16): WriteCoalescer {
  if (isCluster(redis)) return noop
  let coalescer = coalescers.get(redis)
  if (!coalescer) {
    coalescer = createWriteCoalescer(redis, batch)
    coalescers.set(redis, coalescer)
  }
  return coalescer
}

function createWriteCoalescer(redis: RedisClient, batch: number): WriteCoalescer {
  let corked: Corkable | undefined
  let held = 0
  const release = () => {
    const stream = corked
    corked = undefined
    stream?.uncork()
  }
  return () => {
    if (corked !== undefined) {
      if (++held >= batch) {
        held = 0
        corked.uncork()
        corked.cork()
      }
      return
    }
    if (redis.status !== 'ready') return
    const stream = (redis as unknown as { stream?: Partial<Corkable> }).stream
    if (typeof stream?.cork !== 'function' || typeof stream.uncork !== 'function') return
    corked = stream as Corkable
    held = 1
    corked.cork()
    process.nextTick(release)
  }
}
