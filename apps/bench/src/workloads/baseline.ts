import { createClient } from '@redis/client'
import { Redis } from 'ioredis'
import { GET_BASELINE } from '../harness/runner.js'
import type { ContenderFactory, Scenario } from '../harness/types.js'
import { IMPLEMENTATION } from '../scenario-names.js'

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

/**
 * node-redis writes every command of one tick in one socket write, ioredis one write per command: at
 * c=64 that is most of the difference between them. Its raw GET, on its own connection, is the
 * ceiling "× ioredis GET" does not show.
 */
export const nodeRedisGet: ContenderFactory = async ({ server }) => {
  const client = createClient({ url: server.url })
  await client.connect()
  return {
    implementation: IMPLEMENTATION.nodeRedisGet,
    operation: () => client.get(GET_KEY),
    close: () => client.destroy(),
  }
}

/** ioredis with `enableAutoPipelining` (commands of one tick sent as one pipeline), own connection. */
export const autoPipelinedGet: ContenderFactory = async ({ server }) => {
  const client = new Redis({ host: server.host, port: server.port, enableAutoPipelining: true })
  await client.get(GET_KEY)
  return {
    implementation: IMPLEMENTATION.autoPipelinedGet,
    operation: () => client.get(GET_KEY),
    close: () => client.disconnect(),
  }
}

/** Measured in every round of every throughput scenario: raw GET first (ratioToGet divides by it). */
export const references: ContenderFactory[] = [getBaseline, nodeRedisGet, autoPipelinedGet]

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
