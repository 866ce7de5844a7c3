import { describe } from '../../harness/runner.js'
import type { CustomScenario, Scenario } from '../../harness/types.js'
import { SCENARIO } from '../../scenario-names.js'
import type { MemoryProbe } from './families.js'
import { peerProbes } from './peers.js'
import { xRateLimitProbes } from './x-ratelimit.js'
import { xSessionProbes } from './x-session.js'

const probes: MemoryProbe[] = [...xRateLimitProbes, ...xSessionProbes, ...peerProbes]

const memoryScenario: CustomScenario = {
  kind: 'custom',
  workload: 'memory',
  scenario: SCENARIO.memory,
  async run(context) {
    const table = ['| implementation | what | keys | bytes (MEMORY USAGE) |', '|---|---|---|---|']
    const notes = [
      `rate-limit probes: ${context.settings.memoryRequests.toLocaleString('en')} requests on one key at a limit of 100 per minute; ` +
        'every probe gets a key prefix of the same length (bench:mem:N)',
    ]
    for (const probe of probes) {
      try {
        const result = await probe.measure(context)
        table.push(`| ${probe.implementation} | ${probe.what} | ${result.keys} | ${result.bytes} |`)
      } catch (error) {
        notes.push(`${probe.implementation} (${probe.what}): not measured (${describe(error)})`)
      }
    }
    return { rows: [], table, notes }
  },
}

export const memoryScenarios: Scenario[] = [memoryScenario]
