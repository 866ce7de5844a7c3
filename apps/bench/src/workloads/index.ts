import type { Scenario } from '../harness/types.js'
import { baselineScenarios } from './baseline.js'
import { lockScenarios } from './lock/index.js'
import { rateLimitScenarios } from './ratelimit/index.js'

/** Every scenario, in the order of the report. */
export const scenarios: Scenario[] = [...baselineScenarios, ...rateLimitScenarios, ...lockScenarios]
