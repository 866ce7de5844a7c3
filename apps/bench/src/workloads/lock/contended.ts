import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { commandCounts, formatCommands, perCall } from '../../harness/diagnose.js'
import { LatencyRecorder } from '../../harness/latency-recorder.js'
import { measure } from '../../harness/measure.js'
import { formatOps, formatUs } from '../../harness/report.js'
import { describe } from '../../harness/runner.js'
import { median } from '../../harness/stats.js'
import type { BenchContext, CustomScenario, Row } from '../../harness/types.js'
import { getBaseline } from '../baseline.js'
import type { LockFamily } from './families.js'

interface Round {
  sectionsPerSec: number
  waitP50Us: number
  waitP99Us: number
  /** The tail that p99 hides when one worker takes the lock straight back most of the time. */
  waitP999Us: number
  waitMaxUs: number
  overlaps: number
  failures: number
  firstFailure?: unknown
  /** Redis commands per critical section until the deadline (the section's own INCR and DECR included). */
  commandsPerSection: Record<string, number>
  /** Most sections one worker ran: polling locks let the releaser take the lock straight back. */
  busiestWorkerShare: number
  /** Fewest sections one worker ran: what a fair lock guarantees and a barging one does not. */
  leastServedShare: number
}

/**
 * `workers` loops in one process fight for one resource for `contendedMs`. A critical section is
 * INCR of a guard key (it must read 1, or two holders overlap), then DECR: two round trips under
 * the lock. Sections that start before the deadline count; waits are measured from the call to
 * acquire until it returns. After the deadline the waiters still queued take and drop the lock
 * without counting, so every implementation ends cleanly.
 */
async function contendOnce(family: LockFamily, context: BenchContext, thinkMs: number): Promise<Round> {
  const { settings, redis } = context
  const locker = await family.open(context)
  const prefix = context.prefix('lock-contended')
  const resource = `${prefix}:resource`
  const guardKey = `${prefix}:guard`
  const waits = new LatencyRecorder()
  let sections = 0
  let overlaps = 0
  let failures = 0
  let firstFailure: unknown
  const perWorker = new Array<number>(settings.contendedWorkers).fill(0)
  await redis.config('RESETSTAT')
  const started = performance.now()
  const deadline = started + settings.contendedMs
  // Commands counted up to the deadline, not through the drain that follows it.
  const counted = new Promise<Record<string, number>>((resolve, reject) => {
    setTimeout(() => commandCounts(redis).then(resolve, reject), settings.contendedMs)
  })
  const worker = async (_: unknown, index: number) => {
    while (performance.now() < deadline) {
      const asked = performance.now()
      let release: () => Promise<unknown>
      try {
        release = await locker.acquire(resource, 30_000)
      } catch (error) {
        failures++
        firstFailure ??= error
        continue
      }
      const now = performance.now()
      waits.record((now - asked) * 1000)
      try {
        if (now < deadline) {
          if ((await redis.incr(guardKey)) !== 1) overlaps++
          await redis.decr(guardKey)
          sections++
          perWorker[index]!++
        }
      } finally {
        await release().catch((error: unknown) => {
          failures++
          firstFailure ??= error
        })
      }
      if (thinkMs > 0) await sleep(thinkMs)
    }
  }
  try {
    await Promise.all(Array.from({ length: settings.contendedWorkers }, worker))
  } finally {
    await locker.close?.()
  }
  const [waitP50Us, waitP99Us, waitP999Us, waitMaxUs] = waits.percentiles(0.5, 0.99, 0.999, 1)
  const counts = await counted
  return {
    commandsPerSection: perCall(counts, Math.max(1, sections)),
    busiestWorkerShare: Math.max(...perWorker) / Math.max(1, sections),
    leastServedShare: Math.min(...perWorker) / Math.max(1, sections),
    sectionsPerSec: (sections / settings.contendedMs) * 1000,
    waitP50Us: waitP50Us!,
    waitP99Us: waitP99Us!,
    waitP999Us: waitP999Us!,
    waitMaxUs: waitMaxUs!,
    overlaps,
    failures,
    ...(firstFailure === undefined ? {} : { firstFailure }),
  }
}

const share = (fraction: number) => `${(fraction * 100).toFixed(fraction < 0.01 ? 2 : 1)} %`

export interface ContendedOptions {
  /**
   * Work outside the lock between two sections of one worker, in ms. 0: a worker asks again as soon
   * as it released, so a polling lock tends to go straight back to the worker that released it.
   */
  thinkMs: number
}

export function contendedScenario(
  workload: string,
  scenario: string,
  families: LockFamily[],
  options: ContendedOptions,
): CustomScenario {
  return {
    kind: 'custom',
    workload,
    scenario,
    async run(context) {
      const { settings } = context
      const workers = settings.contendedWorkers
      const rounds = new Map<string, Round[]>()
      const gets: number[] = []
      const unavailable = new Map<string, string>()
      const get = await getBaseline(context)
      // Each round costs contendedMs per implementation: three rounds keep a full run under budget.
      const roundCount = Math.min(settings.rounds, 3)
      for (let round = 0; round < roundCount; round++) {
        const order = round % 2 === 0 ? families : [...families].reverse()
        if (!('unavailable' in get)) {
          const result = await measure(get.operation, {
            concurrency: workers,
            durationMs: settings.durationMs,
            warmupMs: settings.warmupMs,
          })
          gets.push(result.opsPerSec)
        }
        for (const family of order) {
          if (unavailable.has(family.implementation)) continue
          try {
            const result = await contendOnce(family, context, options.thinkMs)
            rounds.set(family.implementation, [...(rounds.get(family.implementation) ?? []), result])
            context.log(
              `  ${scenario} round ${round + 1}: ${family.implementation} ${Math.round(result.sectionsPerSec)} sections/s, ` +
                `wait p99 ${Math.round(result.waitP99Us)} µs, overlaps ${result.overlaps}`,
            )
          } catch (error) {
            unavailable.set(family.implementation, describe(error))
          }
        }
      }
      const getMedian = median(gets)
      const rows: Row[] = []
      const table = [
        '| implementation | sections/s | × GET (c=32) | wait p50 | wait p99 | wait p99.9 | wait max | overlaps | ' +
          'failed acquires | busiest worker | least-served worker | Redis commands per section |',
        '|---|---|---|---|---|---|---|---|---|---|---|---|',
      ]
      const notes: string[] = []
      for (const family of families) {
        const results = rounds.get(family.implementation)
        if (!results) {
          notes.push(
            `${family.implementation}: not measured (${unavailable.get(family.implementation) ?? 'no result'})`,
          )
          continue
        }
        const row: Row = {
          workload,
          scenario,
          implementation: family.implementation,
          concurrency: workers,
          opsPerSec: median(results.map((result) => result.sectionsPerSec)),
          p50Us: median(results.map((result) => result.waitP50Us)),
          p99Us: median(results.map((result) => result.waitP99Us)),
          ratioToGet: median(
            results.map((result, round) => result.sectionsPerSec / (gets[round] ?? Number.NaN)),
          ),
        }
        rows.push(row)
        const overlaps = results.reduce((sum, result) => sum + result.overlaps, 0)
        const failures = results.reduce((sum, result) => sum + result.failures, 0)
        table.push(
          `| ${family.implementation} | ${formatOps(row.opsPerSec)} | ${row.ratioToGet.toFixed(3)}× | ` +
            `${formatUs(row.p50Us)} | ${formatUs(row.p99Us)} | ` +
            `${formatUs(median(results.map((result) => result.waitP999Us)))} | ` +
            `${formatUs(median(results.map((result) => result.waitMaxUs)))} | ` +
            `${overlaps === 0 ? '0' : `**${overlaps}**`} | ${failures} | ` +
            `${share(median(results.map((result) => result.busiestWorkerShare)))} of sections | ` +
            `${share(median(results.map((result) => result.leastServedShare)))} of sections | ` +
            `${formatCommands(results[results.length >> 1]!.commandsPerSection)} |`,
        )
        const failure = results.find((result) => result.firstFailure !== undefined)?.firstFailure
        if (failure !== undefined) notes.push(`${family.implementation}: first failure: ${describe(failure)}`)
      }
      notes.unshift(
        `${workers} workers, one resource, ${settings.contendedMs} ms per round; section = INCR guard (must be 1) + DECR; ` +
          `${options.thinkMs > 0 ? `then ${options.thinkMs} ms of work outside the lock (a timer); ` : 'no pause between sections; '}` +
          `raw GET at c=${workers} for the ratio: ${formatOps(getMedian)}/s`,
      )
      return { rows, table, notes }
    },
  }
}
