import { createRedis } from '@x/redis-core'
import { targets, useRedis } from '@x/testkit/vitest'
import { describe, expect, it } from 'vitest'
import { type CheckReply, type CompiledPolicy, checkScript, MODE_LIMIT, MODE_PEEK } from './check.lua.js'
import { gcraLimitScript } from './limit.lua.js'

describe.each(targets())('$name', (target) => {
  const redis = useRedis(target, createRedis)
  const inspect = useRedis(target)
  // gcra 5 per second (burst 3) and 20 per minute (burst 20)
  const policies: CompiledPolicy[] = [
    { code: 1, limit: 5, windowUs: 1_000_000, capacity: 3 },
    { code: 1, limit: 20, windowUs: 60_000_000, capacity: 20 },
  ]
  const generated = gcraLimitScript(policies)!
  const generic = checkScript(policies)
  const keys = (name: string) => [
    `${target.prefix}:{${name}}:!`,
    `${target.prefix}:{${name}}:g:a`,
    `${target.prefix}:{${name}}:g:b`,
  ]
  const limitWith = (script: typeof generated, name: string, cost: number, deadline = 0) =>
    script === generated
      ? script.run(redis, keys(name), [cost, deadline])
      : script.run(redis, keys(name), [MODE_LIMIT, cost, deadline])

  it('is generated only when every policy is gcra', () => {
    expect(gcraLimitScript([{ code: 3, limit: 5, windowUs: 1_000_000, capacity: 5 }])).toBeUndefined()
    expect(generated.lua).not.toMatch(/^\s*(for|while) /m)
  })

  it('answers what the generic script answers in limit mode, call after call', async () => {
    const costs = [1, 2, 1, 4, 3, 1, 21]
    const replies: Array<[CheckReply, CheckReply]> = []
    for (const cost of costs) {
      replies.push([await limitWith(generated, 'same-a', cost), await limitWith(generic, 'same-b', cost)])
    }
    // Two rounded-up milliseconds, plus the server time that passed between the calls on the two
    // keys, summed over the calls so far (each key's state was written at its own instants).
    let apart = 2
    for (const [ours, theirs] of replies) {
      apart += Math.abs(theirs[1]! - ours[1]!) / 1000
      expect(ours).toHaveLength(8)
      expect(ours.every((value) => Number.isInteger(value))).toBe(true)
      // status and remaining agree exactly; times agree up to `apart`, however slow the machine
      expect([ours[0], ours[2], ours[5]]).toEqual([theirs[0], theirs[2], theirs[5]])
      for (const at of [3, 4, 6, 7]) expect(Math.abs(ours[at]! - theirs[at]!)).toBeLessThanOrEqual(apart)
    }
    // burst 3: 1 + 2 admitted, then rejected with a retry; 21 exceeds every capacity: never (-1)
    expect(replies.map(([ours]) => ours[0])).toEqual([1, 1, 0, 0, 0, 0, 0])
    expect(replies[2]![0][4]).toBeGreaterThan(0)
    expect(replies[6]![0][4]).toBe(-1)
    expect(replies[6]![0][7]).toBe(-1)
  })

  it('a rejection writes nothing and the generic script reads what it wrote', async () => {
    await limitWith(generated, 'state', 3)
    const before = await inspect.mget(keys('state')[1]!, keys('state')[2]!)
    expect((await limitWith(generated, 'state', 1))[0]).toBe(0)
    expect(await inspect.mget(keys('state')[1]!, keys('state')[2]!)).toEqual(before)
    const peek = await generic.run(redis, keys('state'), [MODE_PEEK, 1, 0])
    expect([peek[0], peek[2], peek[5]]).toEqual([0, 0, 17])
    expect(await inspect.pttl(keys('state')[2]!)).toBeGreaterThan(59_000)
  })

  it('honours a block and a passed deadline, and treats unreadable state as empty', async () => {
    const [, now] = await limitWith(generated, 'late', 1)
    expect(await limitWith(generated, 'late', 1, now! - 1)).toEqual([3, expect.any(Number)])
    expect((await generic.run(redis, keys('late'), [MODE_PEEK, 1, 0]))[5]).toBe(19)

    await inspect.set(keys('blocked')[0]!, String(now! + 60_000_000), 'PX', 60_000)
    const blocked = await limitWith(generated, 'blocked', 1)
    expect(blocked[0]).toBe(2)
    expect(blocked[2]).toBeGreaterThan(0)
    expect(await inspect.exists(keys('blocked')[1]!, keys('blocked')[2]!)).toBe(0)

    await inspect.set(keys('garbage')[1]!, 'garbage', 'PX', 60_000)
    const reply = await limitWith(generated, 'garbage', 1)
    expect([reply[0], reply[2], reply[5]]).toEqual([1, 2, 19])
  })
})
