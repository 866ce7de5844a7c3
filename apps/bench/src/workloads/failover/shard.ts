import { slotOf } from '@x/redis-core'
import type { Cluster } from 'ioredis'

/** The hash slots of one shard: every key of a failover case lives in them. */
export interface TargetShard {
  /** A key of the shard, for `cluster.failover(key, 'hard')`. */
  readonly key: string
  has(key: string): boolean
  /** The first `count` of `candidate(0)`, `candidate(1)`, … whose `slotKey` is on this shard. */
  pick(count: number, candidate: (index: number) => string, slotKey?: (name: string) => string): string[]
}

/** The slot ranges served by the master of `key`'s slot (they stay the shard's across failovers). */
export async function targetShard(redis: Cluster, key: string): Promise<TargetShard> {
  const slot = slotOf(key)
  // [start, end, [host, port, id, …] of the master, replicas…] per range.
  const ranges = await redis.cluster('SLOTS')
  const portOf = (range: (typeof ranges)[number]) => range[2]?.[1]
  const mine = ranges.find(([start, end]) => slot >= start && slot <= end)
  if (!mine) throw new Error(`no node serves slot ${slot}`)
  const owned = ranges.filter((range) => portOf(range) === portOf(mine)).map(([start, end]) => [start, end])
  const has = (name: string) => {
    const of = slotOf(name)
    return owned.some(([start, end]) => of >= start! && of <= end!)
  }
  return {
    key,
    has,
    pick(count, candidate, slotKey = (name) => name) {
      const picked: string[] = []
      for (let index = 0; picked.length < count; index++) {
        const name = candidate(index)
        if (has(slotKey(name))) picked.push(name)
      }
      return picked
    },
  }
}
