import { createRedis } from '@x/redis-core'
import { targets, useRedis } from '@x/testkit/vitest'
import { describe, expect, it } from 'vitest'
import { checkScript, MODE_LIMIT, MODE_PEEK, MODE_REFUND } from './check.lua.js'

describe.each(targets())('$name', (target) => {
  const redis = useRedis(target, createRedis)
  const inspect = useRedis(target)
  // gcra 5 per minute (burst 5: one unit back every 12 s, so no refill between two calls of a
  // test even on a loaded machine) and fixed window 3 per minute
  const script = checkScript([
    { code: 1, limit: 5, windowUs: 60_000_000, capacity: 5 },
    { code: 3, limit: 3, windowUs: 60_000_000, capacity: 3 },
  ])
  const keys = (name: string) => [
    `${target.prefix}:{${name}}:!`,
    `${target.prefix}:{${name}}:g`,
    `${target.prefix}:{${name}}:f`,
  ]

  it('returns a flat integer array: status, server time, then remaining/reset/retry per policy', async () => {
    const reply = await script.run(redis, keys('a'), [MODE_LIMIT, 1, 0])
    expect(reply).toHaveLength(8)
    expect(reply.every((value) => Number.isInteger(value))).toBe(true)
    const [status, now, gRemaining, gReset, gRetry, fRemaining, fReset, fRetry] = reply
    expect(status).toBe(1)
    expect(Math.abs(now! / 1000 - Date.now())).toBeLessThan(60_000)
    expect([gRemaining, gReset, gRetry]).toEqual([4, 12_000, 0])
    expect([fRemaining, fRetry]).toEqual([2, 0])
    expect(fReset).toBeGreaterThan(0)
    expect(fReset).toBeLessThanOrEqual(60_000)
  })

  it('a call past its deadline changes nothing', async () => {
    const [, now] = await script.run(redis, keys('b'), [MODE_PEEK, 1, 0])
    const late = await script.run(redis, keys('b'), [MODE_LIMIT, 1, now! - 1])
    expect(late).toEqual([3, expect.any(Number)])
    expect(await inspect.exists(keys('b')[1]!, keys('b')[2]!)).toBe(0)
    const onTime = await script.run(redis, keys('b'), [MODE_LIMIT, 1, now! + 60_000_000])
    expect(onTime[0]).toBe(1)
  })

  it('peek and refund modes', async () => {
    await script.run(redis, keys('c'), [MODE_LIMIT, 3, 0])
    const peek = await script.run(redis, keys('c'), [MODE_PEEK, 1, 0])
    expect(peek[0]).toBe(0)
    expect([peek[2], peek[5]]).toEqual([2, 0])
    const refund = await script.run(redis, keys('c'), [MODE_REFUND, 2, 0])
    expect([refund[0], refund[2], refund[5]]).toEqual([1, 4, 2])
  })

  it('treats a value it cannot read as empty state', async () => {
    await inspect.set(keys('d')[1]!, 'garbage', 'PX', 60_000)
    await inspect.set(keys('d')[2]!, 'garbage', 'PX', 60_000)
    const reply = await script.run(redis, keys('d'), [MODE_LIMIT, 1, 0])
    expect([reply[0], reply[2], reply[5]]).toEqual([1, 4, 2])
  })
})
