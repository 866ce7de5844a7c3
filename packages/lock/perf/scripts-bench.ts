// Standalone measurement (not part of the package): the Redis-side cost of the lock scripts alone,
// driven with raw EVALSHA (64 in flight, uncontended), variants interleaved round by round on a
// private redis-server so that machine load hits all of them alike. Reports the median over rounds
// of commands and server µs per acquire+release from INFO commandstats.
// Run: node --import tsx packages/lock/perf/scripts-bench.ts [rounds] [pairs]
import { startRedis } from '@x/testkit'
import { Redis } from 'ioredis'
import { lockAcquire } from '../src/scripts/lock-acquire.lua.js'
import { lockRelease } from '../src/scripts/lock-release.lua.js'

const ROUNDS = Number(process.argv[2] ?? 7)
const PAIRS = Number(process.argv[3] ?? 10_000)
const IN_FLIGHT = 64

const scripts = {
  oldAcquire: `if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {1, redis.call('INCR', KEYS[2])}
end
return {0, redis.call('PTTL', KEYS[1])}`,
  oldRelease: `if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], KEYS[1])
  return 1
end
return 0`,
  newAcquire: lockAcquire.lua,
  newRelease: lockRelease.lua,
  inlineRelease: `local value = redis.call('GET', KEYS[1])
if value == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
if value == ARGV[1] .. '+' then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], KEYS[1])
  return 2
end
return 0`,
  // redis-semaphore 5.8's Mutex: a plain SET NX PX, and this script for the release.
  theirRelease: `local key = KEYS[1]
local identifier = ARGV[1]
if redis.call('get', key) == identifier then
  return redis.call('del', key)
end
return 0`,
}

type Pair = (redis: Redis, sha: Record<string, string>, i: number) => Promise<unknown>
const variants: Record<string, Pair> = {
  before: async (redis, sha, i) => {
    const lock = `p:{r${i}}:lock`
    await redis.evalsha(sha.oldAcquire!, 2, lock, `p:{r${i}}:fence`, 'token-0123456789', 30000)
    await redis.evalsha(sha.oldRelease!, 1, lock, 'token-0123456789', 'p:released')
  },
  after: async (redis, sha, i) => {
    const lock = `q:{r${i}}:lock`
    await redis.evalsha(sha.newAcquire!, 2, lock, `q:{r${i}}:fence`, 'token-0123456789', 30000)
    await redis.evalsha(sha.newRelease!, 2, lock, `q:{r${i}}:waiters`, 'token-0123456789', 'q:released')
  },
  'after (flag in value)': async (redis, sha, i) => {
    const lock = `v:{r${i}}:lock`
    await redis.evalsha(sha.newAcquire!, 2, lock, `v:{r${i}}:fence`, 'token-0123456789', 30000)
    await redis.evalsha(sha.inlineRelease!, 1, lock, 'token-0123456789', 'v:released')
  },
  'redis-semaphore': async (redis, sha, i) => {
    const lock = `s:r${i}`
    await redis.set(lock, 'token-0123456789', 'PX', 30000, 'NX')
    await redis.evalsha(sha.theirRelease!, 1, lock, 'token-0123456789')
  },
}

/** Redis main-thread CPU (user + sys) in µs: unlike commandstats, not inflated when the OS preempts Redis. */
function mainThreadCpu(info: string): number {
  const user = /used_cpu_user_main_thread:([\d.]+)/.exec(info)
  const sys = /used_cpu_sys_main_thread:([\d.]+)/.exec(info)
  return (Number(user?.[1]) + Number(sys?.[1])) * 1e6
}

async function loop(op: (i: number) => Promise<unknown>, count: number, offset: number) {
  let next = 0
  const worker = async () => {
    while (next < count) await op(offset + next++)
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
}

const server = await startRedis()
const redis = new Redis(server.url)
try {
  const sha: Record<string, string> = {}
  for (const [name, lua] of Object.entries(scripts)) sha[name] = (await redis.script('LOAD', lua)) as string
  const results: Record<
    string,
    Array<{ commands: number; usec: number; lua: number; cpu: number; detail: string }>
  > = {}
  let offset = 0
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, pair] of Object.entries(variants)) {
      offset += 1_000_000
      await loop((i) => pair(redis, sha, i), 500, offset)
      offset += 1_000_000
      await redis.config('RESETSTAT')
      const cpuBefore = mainThreadCpu((await redis.info('cpu')) as string)
      await loop((i) => pair(redis, sha, i), PAIRS, offset)
      const cpu = mainThreadCpu((await redis.info('cpu')) as string) - cpuBefore
      const stats = (await redis.info('commandstats')) as string
      let commands = 0
      let usec = 0
      let lua = 0
      const detail: string[] = []
      for (const match of stats.matchAll(/cmdstat_(\w+):calls=(\d+),usec=(\d+)/g)) {
        if (match[1] === 'config' || match[1] === 'info') continue
        commands += Number(match[2])
        detail.push(`${match[1]} ${(Number(match[3]) / Number(match[2])).toFixed(2)}`)
        // Top-level commands only: a script's usec already includes the commands it calls.
        if (match[1] === 'evalsha' || (match[1] === 'set' && name === 'redis-semaphore'))
          usec += Number(match[3])
        if (match[1] === 'evalsha') lua += Number(match[3])
      }
      const rows = results[name] ?? []
      results[name] = rows
      rows.push({
        commands: commands / PAIRS,
        usec: usec / PAIRS,
        lua: lua / PAIRS,
        cpu: cpu / PAIRS,
        detail: detail.join(' '),
      })
    }
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!
  for (const [name, rows] of Object.entries(results)) {
    console.log(
      `${name.padEnd(16)} commands/pair ${median(rows.map((r) => r.commands)).toFixed(2)}  server µs/pair (median of ${ROUNDS}) ${median(rows.map((r) => r.usec)).toFixed(2)}  of which EVALSHA ${median(rows.map((r) => r.lua)).toFixed(2)}  main-thread CPU µs/pair ${median(rows.map((r) => r.cpu)).toFixed(2)}  all: ${rows.map((r) => r.usec.toFixed(2)).join(' ')}  last: ${rows.at(-1)?.detail}`,
    )
  }
} finally {
  redis.disconnect()
  await server.stop()
}
