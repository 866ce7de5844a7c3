import { mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { GoalOutcome } from '../goals.js'
import { IMPLEMENTATION } from '../scenario-names.js'
import { formatCommands } from './diagnose.js'
import { DIAGNOSE_CONCURRENCY, type ScenarioResult, seriesKey } from './runner.js'
import { round } from './stats.js'
import type { FailoverReport, Row } from './types.js'

export interface RunInfo {
  startedAt: Date
  finishedAt: Date
  mode: string
  machine: string
  redisVersion: string
  nodeVersion: string
  settingsLine: string
}

export function formatOps(value: number): string {
  if (!Number.isFinite(value)) return 'n/a'
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)}M`
  if (value >= 1e4) return `${(value / 1e3).toFixed(1)}k`
  if (value >= 1e3) return `${(value / 1e3).toFixed(2)}k`
  return value.toFixed(0)
}

export function formatUs(value: number): string {
  if (!Number.isFinite(value)) return 'n/a'
  if (value >= 1e5) return `${(value / 1e3).toFixed(0)} ms`
  if (value >= 1e4) return `${(value / 1e3).toFixed(1)} ms`
  return `${value.toFixed(0)} µs`
}

/** Rounded copies for the JSON file: ops/s to 1, latencies to 0.1 µs, ratios to 0.001. */
export function jsonRows(results: readonly ScenarioResult[]): Row[] {
  return results.flatMap((result) =>
    result.rows.map((row) => ({
      workload: row.workload,
      scenario: row.scenario,
      implementation: row.implementation,
      concurrency: row.concurrency,
      opsPerSec: round(row.opsPerSec, 1),
      p50Us: round(row.p50Us, 1),
      p99Us: round(row.p99Us, 1),
      ratioToGet: round(row.ratioToGet, 3),
    })),
  )
}

export function markdown(
  results: readonly ScenarioResult[],
  goals: readonly GoalOutcome[],
  info: RunInfo,
  previous: readonly Row[] = [],
  failover?: FailoverReport,
): string {
  const lines: string[] = []
  lines.push('# @x bench: latest run', '')
  lines.push(
    `${info.mode} run, ${info.startedAt.toISOString()} → ${info.finishedAt.toISOString()} ` +
      `(${Math.round((info.finishedAt.getTime() - info.startedAt.getTime()) / 1000)} s).`,
    '',
    `- machine: ${info.machine}`,
    `- Node ${info.nodeVersion}, redis-server ${info.redisVersion} (started by the bench, loopback)`,
    `- ${info.settingsLine}`,
    '- each cell: ops/s (× raw ioredis GET in the same round, same concurrency; the range of that ratio over the rounds) · p50 / p99 latency; medians over rounds',
    `- reference columns in every round: ${IMPLEMENTATION.nodeRedisGet} and ${IMPLEMENTATION.autoPipelinedGet} (each on its own connection) show what one connection can do when writes are coalesced`,
    '',
    '## Goals',
    '',
    '| goal | measured (median over rounds of the in-round ratio) | met | CPU per call, client + Redis (c=64) |',
    '|---|---|---|---|',
  )
  for (const goal of goals) {
    const met = goal.met === undefined ? '–' : goal.met ? 'yes' : '**no**'
    lines.push(`| ${goal.goal} | ${goal.measured} | ${met} | ${goal.cost || '–'} |`)
  }
  lines.push(
    '',
    'On a saturated machine (Redis and Node share the cores with everything else) throughput at c=64 ' +
      'follows the total CPU per call, so the last column is the noise-robust reading of a ratio.',
    '',
  )
  lines.push(...againstPrevious(results, previous))
  let workload = ''
  for (const result of results) {
    if (result.workload !== workload) {
      workload = result.workload
      lines.push(`## ${workload}`, '')
    }
    lines.push(`### ${result.scenario}`, '')
    if (result.table) lines.push(...result.table, '')
    else if (result.rows.length > 0) lines.push(...throughputTable(result), '')
    if (result.diagnoses.size > 0) lines.push(...costTable(result), '')
    for (const entry of result.unavailable)
      lines.push(`- ${entry.implementation}: not measured (${entry.reason})`)
    for (const note of result.notes) lines.push(`- ${note}`)
    if (result.unavailable.length > 0 || result.notes.length > 0) lines.push('')
  }
  if (failover) lines.push(...failoverSection(failover))
  return `${lines.join('\n').trimEnd()}\n`
}

/** The failover workload: its own table (see the README for how to read it), then the raw buckets. */
function failoverSection(failover: FailoverReport): string[] {
  return [
    '## failover',
    '',
    '### hard failover of the shard under load',
    '',
    ...(failover.rows.length > 0 ? [...failover.table, ''] : []),
    ...failover.notes.map((note) => `- ${note}`),
    '',
  ]
}

function throughputTable(result: ScenarioResult): string[] {
  const implementations = result.implementations
  const concurrencies = [...new Set(result.rows.map((row) => row.concurrency))]
  const lines = [
    `| c | ${implementations.join(' | ')} |`,
    `|---|${implementations.map(() => '---').join('|')}|`,
  ]
  for (const concurrency of concurrencies) {
    const cells = implementations.map((implementation) => {
      const row = result.rows.find(
        (candidate) => candidate.implementation === implementation && candidate.concurrency === concurrency,
      )
      if (!row) return '–'
      const [low, high] = ratioRange(result, implementation, concurrency)
      const range = Number.isFinite(low) && high > low ? `, ${low.toFixed(2)}–${high.toFixed(2)}` : ''
      return (
        `${formatOps(row.opsPerSec)}/s (${row.ratioToGet.toFixed(2)}×${range}) · ` +
        `${formatUs(row.p50Us)} / ${formatUs(row.p99Us)}`
      )
    })
    lines.push(`| ${concurrency} | ${cells.join(' | ')} |`)
  }
  return lines
}

/** The smallest and largest in-round ratio to raw GET: the noise beside a median. */
function ratioRange(result: ScenarioResult, implementation: string, concurrency: number): [number, number] {
  const mine = result.series.get(seriesKey(implementation, concurrency))
  const get = result.series.get(seriesKey(IMPLEMENTATION.get, concurrency))
  if (!mine || !get) return [Number.NaN, Number.NaN]
  const ratios = mine.map((value, round) => value / (get[round] ?? Number.NaN)).filter(Number.isFinite)
  return ratios.length ? [Math.min(...ratios), Math.max(...ratios)] : [Number.NaN, Number.NaN]
}

/**
 * c=1 must not get slower: each @x row's ratio to GET at c=1 beside the previous full run's. A drop
 * counts as a regression only when it is larger than this run's own spread for that row (or 10 %).
 */
function againstPrevious(results: readonly ScenarioResult[], previous: readonly Row[]): string[] {
  if (previous.length === 0) return []
  const lines = [
    '## c=1 against the previous full run',
    '',
    '| scenario | implementation | previous × GET | now × GET (range) | verdict |',
    '|---|---|---|---|---|',
  ]
  for (const result of results) {
    for (const row of result.rows) {
      if (row.concurrency !== 1 || !row.implementation.startsWith('@x/')) continue
      const before = previous.find(
        (candidate) =>
          candidate.scenario === row.scenario &&
          candidate.implementation === row.implementation &&
          candidate.concurrency === 1,
      )
      if (!before) continue
      const [low, high] = ratioRange(result, row.implementation, 1)
      const noise = Math.max(0.1, Number.isFinite(low) ? (high - low) / Math.max(row.ratioToGet, 1e-9) : 0)
      const verdict =
        row.ratioToGet < before.ratioToGet * (1 - noise)
          ? '**slower**'
          : row.ratioToGet > before.ratioToGet * (1 + noise)
            ? 'faster'
            : 'within noise'
      lines.push(
        `| ${row.scenario} | ${row.implementation} | ${before.ratioToGet.toFixed(2)}× | ` +
          `${row.ratioToGet.toFixed(2)}× (${Number.isFinite(low) ? `${low.toFixed(2)}–${high.toFixed(2)}` : 'one round'}) | ${verdict} |`,
      )
    }
  }
  lines.push('')
  return lines
}

function costTable(result: ScenarioResult): string[] {
  const lines = [
    `| cost per call (c=${DIAGNOSE_CONCURRENCY}) | Redis commands (inside scripts too) | Redis CPU | of which in Lua | client CPU |`,
    '|---|---|---|---|---|',
  ]
  for (const [implementation, diagnosis] of result.diagnoses) {
    lines.push(
      `| ${implementation} | ${formatCommands(diagnosis.commandsPerCall)} | ` +
        `${diagnosis.serverCpuUs.toFixed(1)} µs | ${diagnosis.scriptUs > 0 ? `${diagnosis.scriptUs.toFixed(1)} µs` : '–'} | ` +
        `${diagnosis.clientCpuUs.toFixed(1)} µs |`,
    )
  }
  return lines
}

/** Writes through a temporary file, so an interrupted run never leaves half a result. */
export function writeResults(folder: string, files: Record<string, string>): void {
  mkdirSync(folder, { recursive: true })
  for (const [name, content] of Object.entries(files)) {
    const target = join(folder, name)
    const temporary = `${target}.tmp`
    writeFileSync(temporary, content)
    renameSync(temporary, target)
  }
}
