// Client-side JS cost of limit() alone: a stub client answers every EVALSHA at once with a fixed reply.
import { createRateLimiter } from '../src/index.js'
import { createRateLimiter as createBaseline } from './baseline/src/index.js'

const reply1 = [1, 1_764_000_000_000_000, 999_999_999, 4, 0]
const reply2 = [1, 1_764_000_000_000_000, 999_999, 1, 0, 999_999_999, 87, 0]
const stub = (reply: number[]) =>
  ({ evalsha: (..._args: unknown[]) => Promise.resolve(reply), unlink: () => Promise.resolve(0) }) as never
const make = (create: typeof createRateLimiter, two: boolean) =>
  two
    ? create({
        redis: stub(reply2),
        policies: [
          { name: 'second', limit: 1_000_000, windowMs: 1000 },
          { name: 'day', limit: 1_000_000_000, windowMs: 86_400_000 },
        ],
      })
    : create({ redis: stub(reply1), limit: 1_000_000_000, windowMs: 3_600_000 })
const all = {
  'ours-1': make(createRateLimiter, false),
  'base-1': make(createBaseline as typeof createRateLimiter, false),
  'ours-2': make(createRateLimiter, true),
  'base-2': make(createBaseline as typeof createRateLimiter, true),
}
const N = 200_000
const results: Record<string, number[]> = {}
const variants = Object.fromEntries(
  Object.entries(all).filter(([name]) => !process.env.ONLY || process.env.ONLY.split(',').includes(name)),
)
for (let round = 0; round < 7; round++) {
  for (const [name, limiter] of Object.entries(variants)) {
    const cpu = process.cpuUsage()
    let next = 0
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < N) {
          next++
          await limiter.limit(`k${next % 1000}`)
        }
      }),
    )
    const used = process.cpuUsage(cpu)
    results[name] = [...(results[name] ?? []), (used.user + used.system) / N]
    if (process.env.HEAP)
      console.log(
        name,
        (process.memoryUsage().heapUsed / 1e6).toFixed(1),
        'MB',
        ((used.user + used.system) / N).toFixed(2),
      )
  }
}
for (const [name, list] of Object.entries(results)) {
  const sorted = [...list].sort((a, b) => a - b)
  console.log(name, 'median µs', sorted[3]!.toFixed(2), 'min', sorted[0]!.toFixed(2))
}
