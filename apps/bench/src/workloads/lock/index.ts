import type { Scenario } from '../../harness/types.js'
import { SCENARIO } from '../../scenario-names.js'
import { contendedScenario } from './contended.js'
import type { LockFamily } from './families.js'
import { redisSemaphore } from './redis-semaphore.js'
import { redlock } from './redlock.js'
import { uncontended } from './uncontended.js'
import { xLock } from './x-lock.js'

const families: LockFamily[] = [xLock, redisSemaphore, redlock]

export const lockScenarios: Scenario[] = [
  {
    kind: 'throughput',
    workload: 'lock',
    scenario: SCENARIO.lockAcquire,
    contenders: families.map(uncontended),
  },
  contendedScenario('lock', SCENARIO.lockContended, families, { thinkMs: 0 }),
  contendedScenario('lock', SCENARIO.lockContendedThink, families, { thinkMs: 1 }),
]
