import { median } from '../../harness/stats.js'
import type { FailoverRow } from '../../harness/types.js'
import type { Samples } from './samples.js'

/** Throughput is counted in buckets of this length, aligned on the master's death. */
export const BUCKET_MS = 100
/** "Back" means this many consecutive buckets average at least RECOVERED_SHARE of the pre-failover median. */
export const RECOVERY_BUCKETS = 5
export const RECOVERED_SHARE = 0.9
/** A call answered by Redis is "delayed" when it took more than this many times the pre-failover p99. */
export const DELAYED_FACTOR = 10

/** What one case's samples say: a failover row without the names and the test kit's promotion time. */
export type Timeline = Omit<FailoverRow, 'implementation' | 'operation' | 'concurrency' | 'unavailableMs'> & {
  /** Calls answered by Redis per bucket from the master's death on (for the notes). */
  bucketsAfter: number[]
}

/**
 * Reads the samples of one case: `killedAtMs` is when the master died, `baselineMs` the steady span
 * before it that defines "normal" (throughput median and p99 latency).
 */
export function analyse(samples: Samples, killedAtMs: number, baselineMs: number): Timeline {
  const preBuckets = new Array<number>(Math.floor(baselineMs / BUCKET_MS)).fill(0)
  const preLatencies: number[] = []
  const bucketsAfter: number[] = []
  const failed: Record<string, number> = {}
  const degraded: Record<string, number> = {}
  const after: number[] = []
  for (let index = 0; index < samples.count; index++) {
    const endMs = samples.endMs(index)
    if (endMs >= killedAtMs) {
      after.push(index)
      continue
    }
    const back = Math.floor((killedAtMs - endMs) / BUCKET_MS)
    if (back >= preBuckets.length || samples.outcome(index) !== '') continue
    preBuckets[back]!++
    preLatencies.push(samples.latencyMs(index))
  }
  const preMedian = median(preBuckets)
  preLatencies.sort((a, b) => a - b)
  const preP99Ms = preLatencies[Math.max(0, Math.ceil(preLatencies.length * 0.99) - 1)] ?? Number.NaN
  const delayedAboveMs = preP99Ms * DELAYED_FACTOR
  let delayed = 0
  let slowestMs = 0
  let firstAnswerAfterMs: number | null = null
  for (const index of after) {
    const endMs = samples.endMs(index)
    const latencyMs = samples.latencyMs(index)
    const outcome = samples.outcome(index)
    slowestMs = Math.max(slowestMs, latencyMs)
    if (outcome.startsWith('error:')) {
      const code = outcome.slice('error:'.length)
      failed[code] = (failed[code] ?? 0) + 1
      continue
    }
    if (outcome !== '') {
      degraded[outcome] = (degraded[outcome] ?? 0) + 1
      continue
    }
    const sinceKillMs = endMs - killedAtMs
    // Only a call sent after the death tells that the client found the new master.
    if (endMs - latencyMs >= killedAtMs && sinceKillMs < (firstAnswerAfterMs ?? Number.POSITIVE_INFINITY))
      firstAnswerAfterMs = sinceKillMs
    if (latencyMs > delayedAboveMs) delayed++
    const bucket = Math.floor(sinceKillMs / BUCKET_MS)
    while (bucketsAfter.length <= bucket) bucketsAfter.push(0)
    bucketsAfter[bucket]!++
  }
  return {
    preOpsPerSec: (preMedian * 1000) / BUCKET_MS,
    preP99Ms,
    delayedAboveMs,
    callsAfter: after.length,
    failed,
    degraded,
    delayed,
    slowestMs,
    firstAnswerAfterMs,
    // A bucket is 100 ms wide: throughput is never back before the first answer inside it.
    recoveredAfterMs: maybeMax(recovery(bucketsAfter, preMedian), firstAnswerAfterMs),
    bucketsAfter,
  }
}

/** The start of the first RECOVERY_BUCKETS buckets whose average is back at ≥ 90 % of the median before. */
function recovery(buckets: readonly number[], preMedian: number): number | null {
  const needed = RECOVERED_SHARE * preMedian * RECOVERY_BUCKETS
  // The last, partly filled bucket does not count.
  for (let start = 0; start + RECOVERY_BUCKETS < buckets.length; start++) {
    let sum = 0
    for (let index = start; index < start + RECOVERY_BUCKETS; index++) sum += buckets[index]!
    if (sum >= needed) return start * BUCKET_MS
  }
  return null
}

function maybeMax(value: number | null, floor: number | null): number | null {
  return value === null ? null : Math.max(value, floor ?? 0)
}
