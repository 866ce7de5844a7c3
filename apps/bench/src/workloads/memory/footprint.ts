import type { Redis } from 'ioredis'

export interface Footprint {
  keys: number
  bytes: number
}

/** Every key under `prefix` (SCAN, never KEYS) and the sum of their MEMORY USAGE (exact: SAMPLES 0). */
export async function footprint(redis: Redis, prefix: string): Promise<Footprint> {
  let cursor = '0'
  let keys = 0
  let bytes = 0
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
    cursor = next
    for (const key of batch) {
      keys++
      bytes += ((await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) as number | null) ?? 0
    }
  } while (cursor !== '0')
  return { keys, bytes }
}

/** `requests` calls of `call`, 64 in flight. */
export async function drive(requests: number, call: (index: number) => Promise<unknown>): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < requests) await call(next++)
    }),
  )
}
