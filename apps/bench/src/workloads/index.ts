import type { Scenario } from '../harness/types.js'
import { baselineScenarios } from './baseline.js'
import { cacheScenarios } from './cache/index.js'
import { lockScenarios } from './lock/index.js'
import { memoryScenarios } from './memory/index.js'
import { observabilityScenario } from './observability/index.js'
import { pubSubScenarios } from './pubsub/index.js'
import { rateLimitScenarios } from './ratelimit/index.js'
import { sessionScenarios } from './session/index.js'

/** Every scenario, in the order of the report. */
export const scenarios: Scenario[] = [
  ...baselineScenarios,
  ...rateLimitScenarios,
  ...lockScenarios,
  ...cacheScenarios,
  ...sessionScenarios,
  ...pubSubScenarios,
  ...memoryScenarios,
  observabilityScenario,
]
