// Standalone measurement (not part of the package): c=64 closed loop on one connection, our limit()
// against rate-limiter-flexible, CPU µs per call client-side and Redis usec_per_call per command.
// Run: node --import tsx packages/ratelimit/perf/measure.ts [rounds] [calls]
import { createRequire } from 'node:module'
import { startRedis } from '@x/testkit'
import { Redis } from 'ioredis'
import { createRateLimiter } from '../src/index.js'
import { createRateLimiter as createBaseline } from './baseline/src/index.js'

const require = createRequire(import.meta.url)
const rlf = require('/work/main/apps/bench/node_modules/rate-limiter-flexible')

const ROUNDS = Number(process.argv[2] ?? 5)
const CALLS = Number(process.argv[3] ?? 20000)
const C = 64
const key = (i: number) => `k${i % 1000}`

async function loop(op: (i: number) => Promise<unknown>, calls: number) {
  let next = 0
  const worker = async () => {
    while (next < calls) {
      const i = next++
      await op(i)
    }
  }
  await Promise.all(Array.from({ length: C }, worker))
}

async function measure(redis: Redis, name: string, op: (i: number) => Promise<unknown>) {
  await loop(op, 2000)
  await redis.config('RESETSTAT')
  const serverCpu = async () => {
    const info = (await redis.info('cpu')) as string
    return Number(/used_cpu_sys:([\d.]+)/.exec(info)![1]) + Number(/used_cpu_user:([\d.]+)/.exec(info)![1])
  }
  const serverBefore = await serverCpu()
  const cpu = process.cpuUsage()
  const t0 = performance.now()
  await loop(op, CALLS)
  const wall = performance.now() - t0
  const used = process.cpuUsage(cpu)
  const serverUs = (((await serverCpu()) - serverBefore) * 1e6) / CALLS
  const stats = (await redis.info('commandstats')) as string
  if (process.env.STATS)
    console.log(
      name,
      stats
        .split('\n')
        .filter((l) => l.startsWith('cmdstat'))
        .join(' '),
    )
  const evalsha = /cmdstat_evalsha:calls=(\d+),usec=(\d+)/.exec(stats)
  const usec = evalsha ? Number(evalsha[2]) / CALLS : Number.NaN
  return { name, ops: (CALLS / wall) * 1000, cpuUs: (used.user + used.system) / CALLS, luaUs: usec, serverUs }
}

const server = await startRedis()
const redis = new Redis(server.url)
const ours = createRateLimiter({ redis, prefix: 'x1', limit: 1_000_000_000, windowMs: 3_600_000 })
const ours2 = createRateLimiter({
  redis,
  prefix: 'x2',
  policies: [
    { name: 'second', limit: 1_000_000, windowMs: 1000 },
    { name: 'day', limit: 1_000_000_000, windowMs: 86_400_000 },
  ],
})
const base1 = createBaseline({ redis, prefix: 'b1', limit: 1_000_000_000, windowMs: 3_600_000 })
const base2 = createBaseline({
  redis,
  prefix: 'b2',
  policies: [
    { name: 'second', limit: 1_000_000, windowMs: 1000 },
    { name: 'day', limit: 1_000_000_000, windowMs: 86_400_000 },
  ],
})
const theirs = new rlf.RateLimiterRedis({
  storeClient: redis,
  keyPrefix: 'r1',
  points: 1_000_000_000,
  duration: 3600,
})
const s = new rlf.RateLimiterRedis({
  storeClient: redis,
  keyPrefix: 'r2:second',
  points: 1_000_000,
  duration: 1,
})
const d = new rlf.RateLimiterRedis({
  storeClient: redis,
  keyPrefix: 'r2:day',
  points: 1_000_000_000,
  duration: 86400,
})
const union = new rlf.RateLimiterUnion(s, d)
const rows: Record<string, Array<{ ops: number; cpuUs: number; luaUs: number; serverUs: number }>> = {}
const ratios: Record<string, number[]> = { one: [], two: [], base1: [], base2: [] }
for (let r = 0; r < ROUNDS; r++) {
  const pairs: Array<[string, (i: number) => Promise<unknown>]> = [
    ['ours-1', (i) => ours.limit(key(i))],
    ['rlf-1', (i) => theirs.consume(key(i))],
    ['ours-2', (i) => ours2.limit(key(i))],
    ['rlf-2', (i) => union.consume(key(i))],
    ['base-1', (i) => base1.limit(key(i))],
    ['base-2', (i) => base2.limit(key(i))],
  ]
  const only = process.env.ONLY?.split(',')
  if (r % 2 === 1) pairs.reverse()
  const got: Record<string, number> = {}
  for (const [name, op] of pairs) {
    if (only && !only.some((prefix) => name.startsWith(prefix))) continue
    const row = await measure(redis, name, op)
    rows[name] = [...(rows[name] ?? []), row]
    got[name] = row.ops
  }
  ratios.one!.push(got['ours-1']! / got['rlf-1']!)
  ratios.two!.push(got['ours-2']! / got['rlf-2']!)
  ratios.base1!.push(got['base-1']! / got['rlf-1']!)
  ratios.base2!.push(got['base-2']! / got['rlf-2']!)
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
for (const [name, list] of Object.entries(rows)) {
  console.log(
    name.padEnd(8),
    `ops/s ${median(list.map((x) => x.ops)).toFixed(0)}`,
    `cpu ${median(list.map((x) => x.cpuUs)).toFixed(1)} µs`,
    `evalsha usec/call ${median(list.map((x) => x.luaUs)).toFixed(2)}`,
    `redis cpu ${median(list.map((x) => x.serverUs)).toFixed(1)} µs`,
    `| cpu ${list.map((x) => x.cpuUs.toFixed(1)).join(' ')} | lua ${list.map((x) => x.luaUs.toFixed(1)).join(' ')}`,
  )
}
console.log('ratio one', median(ratios.one!).toFixed(2), ratios.one!.map((x) => x.toFixed(2)).join(' '))
console.log('base one', median(ratios.base1!).toFixed(2), ratios.base1!.map((x) => x.toFixed(2)).join(' '))
console.log('base two', median(ratios.base2!).toFixed(2), ratios.base2!.map((x) => x.toFixed(2)).join(' '))
console.log('ratio two', median(ratios.two!).toFixed(2), ratios.two!.map((x) => x.toFixed(2)).join(' '))
redis.disconnect()
await server.stop()
