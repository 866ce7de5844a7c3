import { describe } from '../../harness/runner.js'
import { median } from '../../harness/stats.js'
import type { CustomScenario } from '../../harness/types.js'
import { type CacheFamily, FETCH_MS, type StampedeOutcome } from './families.js'

/** N concurrent readers of one cold key, per family and round: how often did the fetcher run? */
export function stampedeScenario(
  workload: string,
  scenario: string,
  families: CacheFamily[],
): CustomScenario {
  return {
    kind: 'custom',
    workload,
    scenario,
    async run(context) {
      const readers = context.settings.stampedeReaders
      const outcomes = new Map<string, StampedeOutcome[]>()
      const notes: string[] = []
      for (let round = 0; round < context.settings.rounds; round++) {
        const order = round % 2 === 0 ? families : [...families].reverse()
        for (const family of order) {
          try {
            const outcome = await family.stampede(context, readers)
            outcomes.set(family.implementation, [...(outcomes.get(family.implementation) ?? []), outcome])
          } catch (error) {
            notes.push(`${family.implementation}: not measured (${describe(error)})`)
          }
        }
      }
      const table = [
        `| implementation | fetcher calls for ${readers} readers | time until all answered | wrong answers |`,
        '|---|---|---|---|',
      ]
      for (const family of families) {
        const results = outcomes.get(family.implementation)
        if (!results) continue
        const calls = results.map((result) => result.fetcherCalls)
        table.push(
          `| ${family.implementation} | ${median(calls)} (rounds: ${calls.join(', ')}) | ` +
            `${median(results.map((result) => result.elapsedMs)).toFixed(0)} ms | ` +
            `${results.reduce((sum, result) => sum + result.wrongAnswers, 0)} |`,
        )
      }
      notes.unshift(
        `the fetcher takes ${FETCH_MS} ms; every reader's answer is compared with the fetcher's value`,
      )
      return { rows: [], table, notes: [...new Set(notes)] }
    },
  }
}
