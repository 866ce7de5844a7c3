import type { RedisClient } from '@x/redis-core'
import { describe, expect, it } from 'vitest'
import { writeCoalescer } from './fast-call.js'

function fakeRedis(status = 'ready') {
  const events: string[] = []
  const stream = { cork: () => events.push('cork'), uncork: () => events.push('uncork') }
  return { redis: { status, stream } as unknown as RedisClient, events }
}

describe('writeCoalescer', () => {
  it('corks once per tick, flushes every batch and at the end of the tick', async () => {
    const { redis, events } = fakeRedis()
    const coalesce = writeCoalescer(redis, 4)
    for (let i = 0; i < 9; i++) {
      coalesce()
      events.push('write')
    }
    // Nothing is held past the tick: the last writes are flushed by the scheduled uncork.
    expect(events.at(-1)).toBe('write')
    await new Promise((resolve) => process.nextTick(resolve))
    expect(events.filter((event) => event === 'write')).toHaveLength(9)
    expect(events.at(-1)).toBe('uncork')
    const corks = events.filter((event) => event === 'cork').length
    expect(corks).toBe(events.filter((event) => event === 'uncork').length)
    expect(corks).toBe(3)
    // The next tick starts a new cork.
    coalesce()
    expect(events.at(-1)).toBe('cork')
    await new Promise((resolve) => process.nextTick(resolve))
    expect(events.at(-1)).toBe('uncork')
  })

  it('leaves a client that is not ready alone', async () => {
    const { redis, events } = fakeRedis('connecting')
    writeCoalescer(redis)()
    await new Promise((resolve) => process.nextTick(resolve))
    expect(events).toEqual([])
  })
})
