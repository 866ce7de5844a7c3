import type { Scenario } from '../../harness/types.js'
import { SCENARIO } from '../../scenario-names.js'
import type { RateLimitFamily } from './families.js'
import { rateLimiterFlexible } from './rate-limiter-flexible.js'
import { xRateLimit } from './x-ratelimit.js'

const families: RateLimitFamily[] = [xRateLimit, rateLimiterFlexible]

export const rateLimitScenarios: Scenario[] = [
  {
    kind: 'throughput',
    workload: 'ratelimit',
    scenario: SCENARIO.rateLimitAllowed,
    contenders: families.map((family) => family.allowed),
  },
  {
    kind: 'throughput',
    workload: 'ratelimit',
    scenario: SCENARIO.rateLimitBlocked,
    contenders: families.map((family) => family.blocked(false)),
  },
  {
    kind: 'throughput',
    workload: 'ratelimit',
    scenario: SCENARIO.rateLimitBlockedCached,
    contenders: families.map((family) => family.blocked(true)),
  },
  {
    kind: 'throughput',
    workload: 'ratelimit',
    scenario: SCENARIO.rateLimitTwoPolicies,
    contenders: families.map((family) => family.twoPolicies),
  },
]
