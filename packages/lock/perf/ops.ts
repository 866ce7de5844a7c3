// Standalone measurement (not part of the package): uncontended acquire + release pairs per second
// with 64 in flight on one connection to a private redis-server, the package's src against a
// second copy (LOCK_BEFORE_SRC, e.g. `git archive <commit> packages/lock/src` unpacked under
// perf/.old) in interleaved rounds, so that load on a shared machine hits both alike; medians.
// Run: node --import tsx packages/lock/perf/ops.ts [rounds] [pairs]
import { startRedis } from '@x/testkit'
import { Redis } from 'ioredis'
import { createLock } from '../src/index.js'

const beforeSrc = process.env.LOCK_BEFORE_SRC
const createBefore: typeof createLock | undefined = beforeSrc
  ? (await import(beforeSrc)).createLock
  : undefined
const ROUNDS = Number(process.argv[2] ?? 5)
const PAIRS = Number(process.argv[3] ?? 20_000)
const IN_FLIGHT = 64

async function pairsPerSecond(
  lock: {
    acquire: typeof createLock extends (...a: never) => infer L
      ? L extends { acquire: infer A }
        ? A
        : never
      : never
  },
  tag: string,
) {
  let next = 0
  const worker = async () => {
    while (next < PAIRS) {
      const i = next++
      const lease = await lock.acquire(`${tag}:r${i % 4096}:${i}`, { waitMs: 0 })
      await lease.release()
    }
  }
  const started = performance.now()
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
  return PAIRS / ((performance.now() - started) / 1000)
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

const server = await startRedis()
const redis = new Redis(server.url)
const variants: Array<[string, { acquire: never }]> = [
  ['after', createLock({ redis, prefix: 'after' }) as never],
]
if (createBefore) variants.unshift(['before', createBefore({ redis, prefix: 'before' } as never) as never])
const results = new Map<string, number[]>(variants.map(([name]) => [name, []]))
for (const [name, lock] of variants) await pairsPerSecond(lock, `warm-${name}`)
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, lock] of round % 2 ? [...variants].reverse() : variants) {
    results.get(name)!.push(await pairsPerSecond(lock, `${name}-${round}`))
  }
}
for (const [name, values] of results) {
  console.log(
    `${name}: median ${Math.round(median(values))} pairs/s over ${ROUNDS} rounds (${values.map((v) => Math.round(v)).join(', ')})`,
  )
}
redis.disconnect()
await server.stop()
process.exit(0)
