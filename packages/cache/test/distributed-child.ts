// A separate process for the distributed single-flight test. argv[2]: JSON { connection, prefix }.
// Waits for the parent's "go" key so the four processes hit the cold key together, then prints the
// value it got. Fetches are counted in Redis (INCR), so the parent sees fetches across processes.
import { createRedis } from '@x/redis-core'
import { createCache } from '../src/index.js'

const { connection, prefix } = JSON.parse(process.argv[2] ?? '{}')
const redis = createRedis(connection)
const cache = createCache({ redis, prefix, distributedSingleFlight: { leaseMs: 10_000, pollIntervalMs: 20 } })
process.stdout.write('ready\n')
for (let attempt = 0; attempt < 1500; attempt++) {
  if ((await redis.exists(`${prefix}:go`)) === 1) break
  await new Promise((resolve) => setTimeout(resolve, 10))
}
const value = await cache.getOrSet('cold', async () => {
  await redis.incr(`${prefix}:fetches`)
  await new Promise((resolve) => setTimeout(resolve, 500))
  return { pid: process.pid }
})
process.stdout.write(`${JSON.stringify(value)}\n`)
redis.disconnect()
