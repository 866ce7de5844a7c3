import type { Scenario } from '../../harness/types.js'
import { SCENARIO } from '../../scenario-names.js'
import { connectRedisWay } from './connect-redis-way.js'
import type { SessionFamily } from './families.js'
import { xSession, xSessionTouchEveryRead } from './x-session.js'

const families: SessionFamily[] = [xSession, xSessionTouchEveryRead, connectRedisWay]

export const sessionScenarios: Scenario[] = [
  {
    kind: 'throughput',
    workload: 'session',
    scenario: SCENARIO.sessionRead,
    contenders: families.map((family) => family.read),
  },
]
