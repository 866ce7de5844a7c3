import { performance } from 'node:perf_hooks'
import { createRedis } from '@x/redis-core'
import { type ReplicatedCluster, settledShard } from '@x/testkit'
import type { FailoverRow, FailoverSettings } from '../../harness/types.js'
import type { FailoverCase } from './case.js'
import { startLoad } from './load.js'
import type { TargetShard } from './shard.js'
import { analyse, BUCKET_MS, RECOVERY_BUCKETS, type Timeline } from './timeline.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export interface CaseOutcome {
  row: FailoverRow
  timeline: Timeline
  /** The first message of each error code that is not one of ours (`E_…`). */
  foreignErrors: Map<string, string>
}

/**
 * One case: steady load on the shard, then its master is killed; the load goes on until the cluster
 * is whole again and throughput has been back for a while (or `capMs` after the kill).
 */
export async function runCase(
  cluster: ReplicatedCluster,
  shard: TargetShard,
  spec: FailoverCase,
  settings: FailoverSettings,
  prefix: string,
): Promise<CaseOutcome> {
  // What an app gets from createRedis: its defaults, nothing tuned for the failover.
  const redis = createRedis({ clusterNodes: cluster.startupNodes, logConnectionErrors: false })
  try {
    const opened = await spec.open({ redis, shard, prefix })
    try {
      const before = await settledShard(cluster, shard.key)
      const load = startLoad(opened.call, settings.concurrency)
      let whole = false
      let failure: unknown
      let promotedAfterMs = Number.NaN
      let killedAtMs = Number.NaN
      try {
        await sleep(settings.warmupMs + settings.baselineMs)
        const failing = cluster.failover(shard.key, 'hard').then(
          (result) => {
            promotedAfterMs = result.promotedAfterMs
            whole = true
          },
          (error: unknown) => {
            failure = error
            whole = true
          },
        )
        // The master's death: the moment its process is gone (failover() looks the shard up first).
        while (before.master.running && !whole) await sleep(1)
        killedAtMs = performance.now()
        for (;;) {
          await sleep(BUCKET_MS * 5)
          const sinceKill = performance.now() - killedAtMs
          if (!whole) continue
          if (sinceKill > settings.capMs) break
          const { recoveredAfterMs } = analyse(load.samples, killedAtMs, settings.baselineMs)
          const backFor = sinceKill - (recoveredAfterMs ?? Number.POSITIVE_INFINITY)
          if (backFor >= RECOVERY_BUCKETS * BUCKET_MS + settings.afterRecoveryMs) break
        }
        await failing
      } finally {
        await load.stop()
      }
      if (failure !== undefined) throw failure
      const timeline = analyse(load.samples, killedAtMs, settings.baselineMs)
      const foreignErrors = new Map([...load.messages].filter(([code]) => !code.startsWith('E_')))
      return { row: toRow(spec, settings, timeline, promotedAfterMs), timeline, foreignErrors }
    } finally {
      await opened.close()
    }
  } finally {
    redis.disconnect()
  }
}

function toRow(
  spec: FailoverCase,
  settings: FailoverSettings,
  timeline: Timeline,
  promotedAfterMs: number,
): FailoverRow {
  const round = (value: number) => Math.round(value * 10) / 10
  return {
    implementation: spec.implementation,
    operation: spec.operation,
    concurrency: settings.concurrency,
    preOpsPerSec: Math.round(timeline.preOpsPerSec),
    preP99Ms: round(timeline.preP99Ms),
    delayedAboveMs: round(timeline.delayedAboveMs),
    callsAfter: timeline.callsAfter,
    failed: timeline.failed,
    degraded: timeline.degraded,
    delayed: timeline.delayed,
    slowestMs: round(timeline.slowestMs),
    unavailableMs: Math.round(promotedAfterMs),
    firstAnswerAfterMs: timeline.firstAnswerAfterMs === null ? null : Math.round(timeline.firstAnswerAfterMs),
    recoveredAfterMs: timeline.recoveredAfterMs,
  }
}
