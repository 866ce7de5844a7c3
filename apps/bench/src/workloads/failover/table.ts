import { formatOps } from '../../harness/report.js'
import type { FailoverRow } from '../../harness/types.js'
import { DELAYED_FACTOR, RECOVERED_SHARE } from './timeline.js'

const counts = (record: Record<string, number>) => {
  const entries = Object.entries(record).sort(([, a], [, b]) => b - a)
  return entries.length === 0 ? '0' : entries.map(([what, count]) => `${count} ${what}`).join(', ')
}

const ms = (value: number | null) =>
  value === null || !Number.isFinite(value) ? 'n/a' : `${Math.round(value)} ms`

/** One line per package: what a hard failover of its shard cost its callers. */
export function failoverTable(rows: readonly FailoverRow[]): string[] {
  const lines = [
    `| implementation | one call | before: ops/s · p99 | failed (rejected, by code) | answered without Redis | delayed (> ${DELAYED_FACTOR}× p99) | shard unavailable (promotion) | first answer after | throughput ≥ ${RECOVERED_SHARE * 100} % again after | slowest call |`,
    '|---|---|---|---|---|---|---|---|---|---|',
  ]
  for (const row of rows) {
    lines.push(
      `| ${row.implementation} | ${row.operation} | ${formatOps(row.preOpsPerSec)}/s · ${row.preP99Ms} ms | ${counts(row.failed)} | ` +
        `${counts(row.degraded)} | ${row.delayed} (> ${row.delayedAboveMs} ms) | ${ms(row.unavailableMs)} | ` +
        `${row.firstAnswerAfterMs === null ? 'none' : ms(row.firstAnswerAfterMs)} | ` +
        `${row.recoveredAfterMs === null ? 'not within the run' : ms(row.recoveredAfterMs)} | ${ms(row.slowestMs)} |`,
    )
  }
  return lines
}
