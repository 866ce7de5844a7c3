// Standalone measurement (not part of the package): uncontended acquire + release, 64 in flight on
// one connection of a private redis-server. Redis side from INFO commandstats (calls and usec per
// command, per acquire+release), client CPU µs per acquire+release. Wall clock is not reported: the
// machine is shared. Run: node --import tsx packages/lock/perf/commandstats.ts [rounds] [pairs]
import { createRequire } from 'node:module'
import { startRedis } from '@x/testkit'
import { Redis } from 'ioredis'
import { createLock } from '../src/index.js'

// Optional: a second copy of the package's src (e.g. `git archive <before> packages/lock/src` unpacked
// under perf/.old) measured in the same rounds, so that machine load hits both alike.
const beforeSrc = process.env.LOCK_BEFORE_SRC
const createBefore: typeof createLock | undefined = beforeSrc
  ? (await import(beforeSrc)).createLock
  : undefined

const require = createRequire(import.meta.url)
const { Mutex } = require('/work/main/apps/bench/node_modules/redis-semaphore')

const ROUNDS = Number(process.argv[2] ?? 3)
const PAIRS = Number(process.argv[3] ?? 10_000)
const IN_FLIGHT = 64

async function loop(op: (i: number) => Promise<unknown>, count: number) {
  let next = 0
  const worker = async () => {
    while (next < count) await op(next++)
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
}

function parse(stats: string) {
  const rows: Record<string, { calls: number; usec: number }> = {}
  for (const match of stats.matchAll(/cmdstat_(\w+):calls=(\d+),usec=(\d+)/g)) {
    rows[match[1]!] = { calls: Number(match[2]), usec: Number(match[3]) }
  }
  return rows
}

async function measure(redis: Redis, op: (i: number) => Promise<unknown>) {
  await loop(op, 1000)
  await redis.config('RESETSTAT')
  const cpu = process.cpuUsage()
  await loop(op, PAIRS)
  const used = process.cpuUsage(cpu)
  const rows = parse((await redis.info('commandstats')) as string)
  delete rows.config
  delete rows.info
  let commands = 0
  let scriptUsec = 0
  const detail: string[] = []
  for (const [name, row] of Object.entries(rows)) {
    commands += row.calls
    if (name === 'evalsha' || name === 'eval') scriptUsec += row.usec
    detail.push(`${name} ${(row.calls / PAIRS).toFixed(2)}×/${(row.usec / row.calls).toFixed(2)}µs`)
  }
  return {
    commands: commands / PAIRS,
    scriptUsPerPair: scriptUsec / PAIRS,
    clientCpuUs: (used.user + used.system) / PAIRS,
    detail: detail.join(', '),
  }
}

const server = await startRedis()
const redis = new Redis(server.url)
const lock = createLock({ redis, prefix: 'ours', ttlMs: 30_000 })
const ours = async (i: number) => {
  const lease = await lock.acquire(`r${i % 4096}:${i}`, { waitMs: 0 })
  await lease.release()
}
const before = createBefore?.({ redis, prefix: 'before', ttlMs: 30_000 })
const previous = async (i: number) => {
  const lease = await before!.acquire(`r${i % 4096}:${i}`, { waitMs: 0 })
  await lease.release()
}
const theirs = async (i: number) => {
  const mutex = new Mutex(redis, `theirs:r${i % 4096}:${i}`, { lockTimeout: 30_000, acquireTimeout: 10_000 })
  await mutex.acquire()
  await mutex.release()
}
try {
  for (let round = 0; round < ROUNDS; round++) {
    const variants: Array<[string, (i: number) => Promise<unknown>]> = [
      ['@x/lock', ours],
      ['redis-semaphore', theirs],
    ]
    if (before) variants.unshift(['@x/lock before', previous])
    for (const [name, op] of variants) {
      const result = await measure(redis, op)
      console.log(
        `${name.padEnd(16)} commands/pair ${result.commands.toFixed(2)}  script µs/pair ${result.scriptUsPerPair.toFixed(2)}  client CPU µs/pair ${result.clientCpuUs.toFixed(1)}  [${result.detail}]`,
      )
    }
  }
} finally {
  await lock.close()
  await before?.close()
  redis.disconnect()
  await server.stop()
}
