import type { Scenario } from '../../harness/types.js'
import { SCENARIO } from '../../scenario-names.js'
import { bentocache } from './bentocache.js'
import { cacheManager } from './cache-manager.js'
import type { CacheFamily } from './families.js'
import { stampedeScenario } from './stampede.js'
import { xCache } from './x-cache.js'

const families: CacheFamily[] = [xCache, bentocache, cacheManager]

export const cacheScenarios: Scenario[] = [
  {
    kind: 'throughput',
    workload: 'cache',
    scenario: SCENARIO.cacheL2,
    contenders: families.map((f) => f.l2Hit),
  },
  {
    kind: 'throughput',
    workload: 'cache',
    scenario: SCENARIO.cacheL1,
    contenders: families.map((f) => f.l1Hit),
  },
  stampedeScenario('cache', SCENARIO.cacheStampede, families),
]
