/**
 * One process of the mutual-exclusion proof (spawned by mutual-exclusion.test.ts with tsx).
 * Runs WORKERS concurrent loops that enter the critical section through withLock until
 * DURATION_MS passed. Inside: a guard counter in Redis (INCR must read 1) and a stand-in
 * resource that rejects any fencing token lower than the highest it has seen.
 * Prints one JSON line: { entries, overlaps, rejected, errors }.
 */
import { createRedis, defineScript, type RedisClient } from '@x/redis-core'
import { createLock } from '../index.js'

interface WorkerConfig {
  /** Connection for createRedis, or a list of URLs for Redlock. */
  connection: { url: string } | { clusterNodes: Array<{ host: string; port: number }> } | { urls: string[] }
  prefix: string
  resource: string
  workers: number
  durationMs: number
}

/** The stand-in resource: accepts a write only with a token at least as high as any seen. */
const fencedWrite = defineScript<number>({
  name: 'fenced-write',
  keys: 2,
  lua: `-- KEYS: highest token seen, rejected counter | ARGV: token
local highest = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) < highest then
  redis.call('INCR', KEYS[2])
  return 0
end
redis.call('SET', KEYS[1], ARGV[1])
return 1
`,
})

const config = JSON.parse(process.env.MUTEX_WORKER ?? '{}') as WorkerConfig
const connection = config.connection
const lockClients: RedisClient[] =
  'urls' in connection
    ? connection.urls.map((url) => createRedis({ url }))
    : [createRedis(connection as { url: string })]
// The guard and the stand-in live on the first server (or the cluster).
const data =
  'urls' in connection
    ? createRedis({ url: connection.urls[0]! })
    : createRedis(connection as { url: string })
const lock = createLock({
  redis: lockClients.length === 1 ? lockClients[0]! : lockClients,
  prefix: config.prefix,
  ttlMs: 3000,
  // The proof is about exclusion, not latency: 16 processes share 2 cores with the other tests.
  redisTimeoutMs: 5000,
})
const guardKey = `${config.prefix}:proof:{${config.resource}}:guard`
const highestKey = `${config.prefix}:proof:{${config.resource}}:highest`
const rejectedKey = `${config.prefix}:proof:{${config.resource}}:rejected`

let entries = 0
let overlaps = 0
let rejected = 0
const errors: string[] = []
const until = Date.now() + config.durationMs

// Each loop enters at least this often, however slow the machine: the proof needs every worker to
// have contended more than once, not a number of entries per second.
const MIN_ENTRIES_PER_WORKER = 2

async function worker(): Promise<void> {
  let mine = 0
  while (Date.now() < until || mine < MIN_ENTRIES_PER_WORKER) {
    try {
      await lock.withLock(
        config.resource,
        async (_signal, lease) => {
          entries += 1
          mine += 1
          if ((await data.incr(guardKey)) !== 1) overlaps += 1
          if ((await fencedWrite.run(data, [highestKey, rejectedKey], [lease.fence])) !== 1) rejected += 1
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 2))
          if ((await fencedWrite.run(data, [highestKey, rejectedKey], [lease.fence])) !== 1) rejected += 1
          await data.decr(guardKey)
        },
        { waitMs: 30_000 },
      )
    } catch (error) {
      errors.push(String(error))
      if (errors.length > 20) return
    }
  }
}

await Promise.all(Array.from({ length: config.workers }, () => worker()))
process.stdout.write(`${JSON.stringify({ entries, overlaps, rejected, errors })}\n`)
await lock.close()
for (const client of [...lockClients, data]) client.disconnect()
