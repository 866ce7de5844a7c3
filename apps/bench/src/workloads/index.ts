import type { Scenario } from '../harness/types.js'
import { baselineScenarios } from './baseline.js'

/** Every scenario, in the order of the report. */
export const scenarios: Scenario[] = [...baselineScenarios]
