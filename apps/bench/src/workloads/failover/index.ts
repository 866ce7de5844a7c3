import { performance } from 'node:perf_hooks'
import { createRedis } from '@x/redis-core'
import { startReplicatedCluster } from '@x/testkit'
import type { BenchContext, FailoverReport, FailoverRow } from '../../harness/types.js'
import { cacheCase } from './cache.js'
import type { FailoverCase } from './case.js'
import { lockCase } from './lock.js'
import { pubSubCase } from './pubsub.js'
import { rateLimitCase } from './ratelimit.js'
import { runCase } from './run-case.js'
import { sessionCase } from './session.js'
import { targetShard } from './shard.js'
import { streamCase } from './stream.js'
import { failoverTable } from './table.js'
import { BUCKET_MS } from './timeline.js'

export const FAILOVER_WORKLOAD = 'failover'

const cases: FailoverCase[] = [cacheCase, sessionCase, rateLimitCase, lockCase, pubSubCase, streamCase]

/** Calls answered by Redis per 500 ms from the master's death: the shape of the dip, for the notes. */
function trace(buckets: readonly number[]): string {
  const per = 500 / BUCKET_MS
  const sums: number[] = []
  for (let index = 0; index + per <= buckets.length && sums.length < 30; index += per)
    sums.push(buckets.slice(index, index + per).reduce((sum, count) => sum + count, 0))
  return `calls answered by Redis per 500 ms from the master's death: ${sums.join(' ')}`
}

/**
 * Every case on one 3 × 1 cluster, one after the other, each with a hard failover of the same shard
 * (its two nodes take turns as master). The cluster's processes are test-kit servers, stopped at the end.
 */
export async function runFailover(context: BenchContext): Promise<FailoverReport> {
  const settings = context.settings.failover
  const cluster = await startReplicatedCluster()
  const rows: FailoverRow[] = []
  const notes: string[] = []
  try {
    const probe = createRedis({ clusterNodes: cluster.startupNodes, logConnectionErrors: false })
    const shard = await targetShard(probe, 'bench-failover').finally(() => probe.disconnect())
    for (const spec of cases) {
      const started = performance.now()
      try {
        const { row, timeline, foreignErrors } = await runCase(
          cluster,
          shard,
          spec,
          settings,
          context.prefix('failover'),
        )
        rows.push(row)
        context.log(
          `failover / ${spec.implementation}: promoted after ${row.unavailableMs} ms, back after ` +
            `${row.recoveredAfterMs ?? 'n/a'} ms (${((performance.now() - started) / 1000).toFixed(1)} s)`,
        )
        notes.push(`${spec.implementation}: ${trace(timeline.bucketsAfter)}`)
        for (const [code, message] of foreignErrors)
          notes.push(
            `${spec.implementation}: rejected with ${code} without an error code of ours: "${message}"`,
          )
      } catch (error) {
        context.log(`failover / ${spec.implementation}: not measured (${String(error)})`)
        notes.push(
          `${spec.implementation}: not measured (${error instanceof Error ? error.message : String(error)})`,
        )
      }
    }
  } finally {
    await cluster.stop()
  }
  return { rows, table: failoverTable(rows), notes }
}
