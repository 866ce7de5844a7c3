import { createRedis, type RedisClient } from '@x/redis-core'
import { sleep, targets, useRedis } from '@x/testkit/vitest'
import { describe, expect, it } from 'vitest'
import { createRateLimiter } from './rate-limiter.js'

const CONNECTIONS = 4
const LOOPS = 16
const DURATION_MS = 4200
const LIMIT = 10
const WINDOW_MS = 1000

/** Admissions (server ms) and the span of every attempt, from 4 connections × 16 loops on one key. */
async function hammer(clients: RedisClient[], prefix: string, algorithm: string) {
  const limiters = clients.map((redis) =>
    createRateLimiter({
      redis,
      prefix,
      algorithm: algorithm as 'gcra',
      limit: LIMIT,
      windowMs: WINDOW_MS,
      failureMode: 'throw',
      redisTimeoutMs: 5000,
    }),
  )
  const admitted: number[] = []
  let first = Number.POSITIVE_INFINITY
  let last = 0
  const end = Date.now() + DURATION_MS
  await Promise.all(
    limiters.flatMap((limiter) =>
      Array.from({ length: LOOPS }, async () => {
        while (Date.now() < end) {
          const result = await limiter.limit('hot')
          if (result.now < first) first = result.now
          if (result.now > last) last = result.now
          if (result.allowed) admitted.push(result.now)
          // A short pause after a rejection keeps 64 loops from burning a shared CPU; it is far
          // below the 100 ms between admissions, so contention stays.
          else await sleep(2)
        }
      }),
    ),
  )
  admitted.sort((a, b) => a - b)
  return { admitted, span: last - first }
}

/** Most admissions in any half-open window [t, t + length) that starts at an admission. */
function maxInWindow(times: number[], length: number): number {
  let most = 0
  let start = 0
  for (let end = 0; end < times.length; end++) {
    while (times[end]! - times[start]! >= length) start++
    most = Math.max(most, end - start + 1)
  }
  return most
}

function perAlignedWindow(times: number[]): number[] {
  const counts = new Map<number, number>()
  for (const time of times) {
    const window = Math.floor(time / WINDOW_MS)
    counts.set(window, (counts.get(window) ?? 0) + 1)
  }
  return [...counts.values()]
}

describe.each(targets())('$name', (target) => {
  // Separate connections, so checks from different "instances" really race on the server.
  const clients = Array.from({ length: CONNECTIONS }, () => useRedis(target, createRedis))

  it.concurrent('gcra: any interval d admits at most burst + d × rate, and ≥ 90 % of the ideal', async () => {
    const { admitted, span } = await hammer(clients, `${target.prefix}:g`, 'gcra')
    const interval = WINDOW_MS / LIMIT
    for (let i = 0; i < admitted.length; i++) {
      for (let j = i; j < admitted.length; j++) {
        expect(j - i + 1).toBeLessThanOrEqual(LIMIT + (admitted[j]! - admitted[i]!) / interval + 1e-6)
      }
    }
    expect(maxInWindow(admitted, WINDOW_MS)).toBeLessThanOrEqual(2 * LIMIT)
    expect(admitted.length).toBeGreaterThanOrEqual(0.9 * (LIMIT + span / interval))
  })

  it.concurrent('fixed-window: at most the limit per window, and ≥ 90 % of the ideal', async () => {
    const { admitted, span } = await hammer(clients, `${target.prefix}:f`, 'fixed-window')
    for (const count of perAlignedWindow(admitted)) expect(count).toBeLessThanOrEqual(LIMIT)
    expect(admitted.length).toBeGreaterThanOrEqual(0.9 * LIMIT * (span / WINDOW_MS))
  })

  it.concurrent('sliding-log: at most the limit in any window, and ≥ 90 % of the ideal', async () => {
    const { admitted, span } = await hammer(clients, `${target.prefix}:l`, 'sliding-log')
    expect(maxInWindow(admitted, WINDOW_MS)).toBeLessThanOrEqual(LIMIT)
    expect(admitted.length).toBeGreaterThanOrEqual(0.9 * LIMIT * (span / WINDOW_MS))
  })

  it.concurrent('sliding-window: at most the limit per aligned window, under twice it in any window, ≥ 90 % of the ideal', async () => {
    const { admitted, span } = await hammer(clients, `${target.prefix}:s`, 'sliding-window')
    for (const count of perAlignedWindow(admitted)) expect(count).toBeLessThanOrEqual(LIMIT)
    expect(maxInWindow(admitted, WINDOW_MS)).toBeLessThan(2 * LIMIT)
    expect(admitted.length).toBeGreaterThanOrEqual(0.9 * LIMIT * (span / WINDOW_MS))
  })
})
