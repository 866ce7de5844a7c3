import { GET_BASELINE } from '../harness/runner.js'
import type { ContenderFactory, Scenario } from '../harness/types.js'

/** A value of the size the cache and session workloads store (~100 bytes of JSON). */
export const SAMPLE_VALUE = JSON.stringify({
  id: 42,
  name: 'Ada Lovelace',
  email: 'ada@example.com',
  roles: ['admin', 'editor'],
  active: true,
})

const GET_KEY = 'bench:baseline:get'

/** Raw GET of one existing key on the bench connection: the figure every ratioToGet divides by. */
export const getBaseline: ContenderFactory = async ({ redis }) => {
  await redis.set(GET_KEY, SAMPLE_VALUE)
  return { implementation: GET_BASELINE, operation: () => redis.get(GET_KEY) }
}

const setContender: ContenderFactory = async ({ redis, prefix }) => {
  const key = `${prefix('baseline-set')}:key`
  return { implementation: 'ioredis SET', operation: () => redis.set(key, SAMPLE_VALUE) }
}

/** The floor of any Lua-based operation: EVALSHA of a script that only GETs. */
const evalshaContender: ContenderFactory = async ({ redis }) => {
  const sha = (await redis.script('LOAD', "return redis.call('GET', KEYS[1])")) as string
  return { implementation: 'ioredis EVALSHA', operation: () => redis.evalsha(sha, 1, GET_KEY) }
}

/** The ceiling of any in-process operation: the harness's own cost for an async call that does nothing. */
const emptyCall: ContenderFactory = async () => ({
  implementation: 'empty async call',
  operation: async () => {},
})

export const baselineScenarios: Scenario[] = [
  {
    kind: 'throughput',
    workload: 'baseline',
    scenario: 'raw commands',
    contenders: [setContender, evalshaContender, emptyCall],
  },
]
