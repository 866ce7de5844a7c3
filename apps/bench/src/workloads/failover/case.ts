import type { Cluster } from 'ioredis'
import type { FailoverCall } from './load.js'
import type { TargetShard } from './shard.js'

export interface CaseContext {
  /** A `createRedis` Cluster client with its defaults, closed by the runner. */
  redis: Cluster
  /** The shard that fails: every key of the case must live on it. */
  shard: TargetShard
  /** A key prefix of the case's own. */
  prefix: string
}

export interface OpenedCase {
  call: FailoverCall
  close(): Promise<void> | void
}

/** One package under a hard failover: how to build it (data seeded) and what one call is. */
export interface FailoverCase {
  implementation: string
  /** What one call is, for the table. */
  operation: string
  open(context: CaseContext): Promise<OpenedCase>
}

/** Runs `work` on `items` with at most `width` in flight: seeding thousands of keys one by one is slow. */
export async function inBatches<T>(items: readonly T[], width: number, work: (item: T) => Promise<unknown>) {
  for (let index = 0; index < items.length; index += width) {
    await Promise.all(items.slice(index, index + width).map(work))
  }
}
