import { IMPLEMENTATION } from '../scenario-names.js'
import { type Diagnosis, diagnose } from './diagnose.js'
import { measure } from './measure.js'
import { median } from './stats.js'
import {
  type BenchContext,
  type Contender,
  type ContenderFactory,
  type CustomResult,
  isUnavailable,
  type Row,
  type Scenario,
  type ThroughputScenario,
} from './types.js'

export const GET_BASELINE = IMPLEMENTATION.get
export const DIAGNOSE_CONCURRENCY = 64

export interface ScenarioResult {
  workload: string
  scenario: string
  rows: Row[]
  /** Implementations in column order. */
  implementations: string[]
  unavailable: Array<{ implementation: string; reason: string }>
  notes: string[]
  table?: string[]
  /** ops/s of each round, by `seriesKey(implementation, concurrency)`: pairwise ratios per round. */
  series: Map<string, number[]>
  /** What one call costs, by implementation (throughput scenarios). */
  diagnoses: Map<string, Diagnosis>
}

export function seriesKey(implementation: string, concurrency: number): string {
  return `${implementation}@${concurrency}`
}

/**
 * Runs one scenario. Throughput scenarios: at each concurrency, `rounds` rounds; in each round every
 * contender and raw GET run once, in alternating order (forward, then reversed), so drift of a noisy
 * machine hits everyone alike. ratioToGet compares with the GET of the same round; the reported
 * figures are the medians over rounds. `references` (raw GET first, then the coalescing clients that
 * show the real ceiling of one connection) run in every round beside the contenders.
 */
export async function runScenario(
  scenario: Scenario,
  context: BenchContext,
  references: readonly ContenderFactory[],
): Promise<ScenarioResult> {
  if (scenario.kind === 'custom') {
    let result: CustomResult
    try {
      result = await scenario.run(context)
    } catch (error) {
      result = { rows: [], notes: [`failed: ${describe(error)}`] }
    }
    return {
      workload: scenario.workload,
      scenario: scenario.scenario,
      rows: result.rows,
      implementations: [...new Set(result.rows.map((row) => row.implementation))],
      unavailable: [],
      notes: result.notes ?? [],
      ...(result.table ? { table: result.table } : {}),
      series: new Map(),
      diagnoses: new Map(),
    }
  }
  return runThroughput(scenario, context, references)
}

async function runThroughput(
  scenario: ThroughputScenario,
  context: BenchContext,
  references: readonly ContenderFactory[],
): Promise<ScenarioResult> {
  const { settings } = context
  await scenario.prepare?.(context)
  const contenders: Contender[] = []
  const unavailable: ScenarioResult['unavailable'] = []
  for (const factory of [...references, ...scenario.contenders]) {
    try {
      const built = await factory(context)
      if (isUnavailable(built))
        unavailable.push({ implementation: built.implementation, reason: built.unavailable })
      else contenders.push(built)
    } catch (error) {
      unavailable.push({ implementation: factory.name || 'unknown', reason: describe(error) })
    }
  }
  const notes: string[] = []
  const rows: Row[] = []
  const allSeries = new Map<string, number[]>()
  const diagnoses = new Map<string, Diagnosis>()
  try {
    for (const concurrency of settings.concurrencies) {
      const byImplementation = new Map<
        string,
        { ops: number[]; p50: number[]; p99: number[]; ratio: number[] }
      >()
      for (let round = 0; round < settings.rounds; round++) {
        const order = round % 2 === 0 ? contenders : [...contenders].reverse()
        const ops = new Map<string, { opsPerSec: number; p50Us: number; p99Us: number }>()
        for (const contender of order) {
          const result = await measure(contender.operation, {
            concurrency,
            durationMs: settings.durationMs,
            warmupMs: settings.warmupMs,
          })
          if (result.errors > 0) {
            notes.push(
              `${contender.implementation} at c=${concurrency}, round ${round + 1}: ${result.errors} of ` +
                `${result.errors + result.operations} calls failed (first: ${describe(result.firstError)})`,
            )
          }
          ops.set(contender.implementation, result)
        }
        const get = ops.get(GET_BASELINE)?.opsPerSec ?? Number.NaN
        for (const [implementation, result] of ops) {
          let series = byImplementation.get(implementation)
          if (!series) {
            series = { ops: [], p50: [], p99: [], ratio: [] }
            byImplementation.set(implementation, series)
          }
          series.ops.push(result.opsPerSec)
          series.p50.push(result.p50Us)
          series.p99.push(result.p99Us)
          series.ratio.push(result.opsPerSec / get)
        }
        context.log(
          `  ${scenario.workload} / ${scenario.scenario} c=${concurrency} round ${round + 1}: ` +
            [...ops].map(([name, result]) => `${name} ${Math.round(result.opsPerSec)}/s`).join(', '),
        )
      }
      for (const contender of contenders) {
        const series = byImplementation.get(contender.implementation)
        if (!series) continue
        allSeries.set(seriesKey(contender.implementation, concurrency), series.ops)
        rows.push({
          workload: scenario.workload,
          scenario: scenario.scenario,
          implementation: contender.implementation,
          concurrency,
          opsPerSec: median(series.ops),
          p50Us: median(series.p50),
          p99Us: median(series.p99),
          ratioToGet: median(series.ratio),
        })
      }
    }
    for (const contender of contenders) {
      diagnoses.set(
        contender.implementation,
        await diagnose(context.redis, contender.operation, settings.diagnoseCalls, DIAGNOSE_CONCURRENCY),
      )
    }
  } finally {
    for (const contender of contenders) {
      try {
        await contender.close?.()
      } catch (error) {
        notes.push(`${contender.implementation}: close failed: ${describe(error)}`)
      }
    }
  }
  return {
    workload: scenario.workload,
    scenario: scenario.scenario,
    rows,
    implementations: contenders.map((contender) => contender.implementation),
    unavailable,
    notes: dedupe(notes),
    series: allSeries,
    diagnoses,
  }
}

function dedupe(notes: string[]): string[] {
  return [...new Set(notes)]
}

export function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 300)
  try {
    return JSON.stringify(error).slice(0, 300)
  } catch {
    return String(error)
  }
}

/** Builds a contender, turning a throw (a missing build, a changed API) into an "unavailable" entry. */
export function guard(implementation: string, build: ContenderFactory): ContenderFactory {
  const factory: ContenderFactory = async (context) => {
    try {
      return await build(context)
    } catch (error) {
      return { implementation, unavailable: describe(error) }
    }
  }
  Object.defineProperty(factory, 'name', { value: implementation })
  return factory
}
