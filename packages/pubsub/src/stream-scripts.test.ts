import { createRedis } from '@x/redis-core'
import { sleep, targets, useRedis } from '@x/testkit/vitest'
import { describe, expect, it } from 'vitest'
import { deadLetterScript } from './dead-letter.lua.js'
import { reclaimScript } from './reclaim.lua.js'

describe.each(targets())('stream scripts on $name', (target) => {
  const redis = useRedis(target, createRedis)
  let counter = 0
  const keysFor = (): [string, string] => {
    const key = `${target.prefix}:{script${++counter}}`
    return [key, `${key}:dead`]
  }
  const pendingCount = async (key: string) => Number(((await redis.xpending(key, 'g')) as [number])[0])

  /** Adds `count` entries and has consumer "gone" read them without acknowledging. */
  const strand = async (key: string, count: number) => {
    await redis.xgroup('CREATE', key, 'g', '0', 'MKSTREAM')
    for (let n = 0; n < count; n++) await redis.xadd(key, '*', 'd', String(n))
    await redis.xreadgroup('GROUP', 'g', 'gone', 'COUNT', count, 'STREAMS', key, '>')
  }

  it('reclaim takes over idle entries with their delivery count', async () => {
    const keys = keysFor()
    await strand(keys[0]!, 3)
    await sleep(30)
    const [cursor, entries, dead] = await reclaimScript.run(redis, keys, ['g', 'me', 10, '0-0', 10, 5, 100])
    expect(cursor).toBe('0-0')
    expect(dead).toEqual([])
    expect(entries.map(([, fields, deliveries]) => [fields, deliveries])).toEqual([
      [['d', '0'], 2],
      [['d', '1'], 2],
      [['d', '2'], 2],
    ])
    const consumers = (await redis.xinfo('CONSUMERS', keys[0]!, 'g')) as unknown[]
    expect(JSON.stringify(consumers)).toContain('me')
  })

  it('reclaim leaves entries that are not idle long enough', async () => {
    const keys = keysFor()
    await strand(keys[0]!, 2)
    const [, entries] = await reclaimScript.run(redis, keys, ['g', 'me', 60_000, '0-0', 10, 5, 100])
    expect(entries).toEqual([])
    expect(await pendingCount(keys[0]!)).toBe(2)
  })

  it('reclaim dead-letters entries claimed beyond max deliveries and acknowledges them', async () => {
    const keys = keysFor()
    await strand(keys[0]!, 2)
    await sleep(20)
    const [, entries, dead] = await reclaimScript.run(redis, keys, ['g', 'me', 5, '0-0', 10, 1, 100])
    expect(entries).toEqual([])
    expect(dead.map(([, deliveries]) => deliveries)).toEqual([2, 2])
    expect(await pendingCount(keys[0]!)).toBe(0)
    const letters = (await redis.xrange(keys[1]!, '-', '+')) as Array<[string, string[]]>
    expect(letters).toHaveLength(2)
    expect(letters[0]![1]).toEqual(
      expect.arrayContaining(['x-deliveries', '2', 'x-reason', 'max-deliveries', 'd', '0']),
    )
  })

  it('reclaim pages with its cursor', async () => {
    const keys = keysFor()
    await strand(keys[0]!, 5)
    await sleep(20)
    const first = await reclaimScript.run(redis, keys, ['g', 'me', 5, '0-0', 2, 5, 100])
    expect(first[1]).toHaveLength(2)
    expect(first[0]).not.toBe('0-0')
    const second = await reclaimScript.run(redis, keys, ['g', 'me', 5, first[0], 10, 5, 100])
    expect(second[1]).toHaveLength(3)
  })

  it('dead-letter moves a pending entry once and reports 0 for one no longer pending', async () => {
    const keys = keysFor()
    await strand(keys[0]!, 1)
    const entries = (await redis.xrange(keys[0]!, '-', '+')) as Array<[string, string[]]>
    const id = entries[0]![0]
    const args: [string, string, number, string, string, number] = [
      'g',
      id,
      3,
      'max-deliveries',
      'Error: nope',
      100,
    ]
    expect(await deadLetterScript.run(redis, keys, args)).toBe(1)
    expect(await deadLetterScript.run(redis, keys, args)).toBe(0)
    const letters = (await redis.xrange(keys[1]!, '-', '+')) as Array<[string, string[]]>
    expect(letters).toHaveLength(1)
    expect(letters[0]![1]).toEqual(expect.arrayContaining(['x-id', id, 'x-error', 'Error: nope', 'd', '0']))
    expect(await pendingCount(keys[0]!)).toBe(0)
  })

  /** XADD of one entry with `pairs` fields besides `d`, read by consumer "gone" and never acknowledged. */
  const strandHuge = async (key: string, pairs: number) => {
    const fields: string[] = ['d', '"huge"']
    for (let n = 0; n < pairs; n++) fields.push(`f${n}`, String(n))
    const id = String(await redis.xadd(key, '*', ...fields))
    await redis.xreadgroup('GROUP', 'g', 'gone', 'STREAMS', key, '>')
    return id
  }

  it('dead-letter moves an entry of 5,000 fields (beyond what Lua can unpack) and keeps its message', async () => {
    const keys = keysFor()
    await redis.xgroup('CREATE', keys[0]!, 'g', '0', 'MKSTREAM')
    const id = await strandHuge(keys[0]!, 5000)
    expect(await deadLetterScript.run(redis, keys, ['g', id, 1, 'invalid', 'Error: too big', 100])).toBe(1)
    const letters = (await redis.xrange(keys[1]!, '-', '+')) as Array<[string, string[]]>
    expect(letters[0]![1]).toEqual(expect.arrayContaining(['x-id', id, 'x-fields', '5001', 'd', '"huge"']))
    expect(await pendingCount(keys[0]!)).toBe(0)
  })

  it('dead-letter copies every field of an entry of 1,000 fields', async () => {
    const keys = keysFor()
    await redis.xgroup('CREATE', keys[0]!, 'g', '0', 'MKSTREAM')
    const id = await strandHuge(keys[0]!, 999)
    expect(await deadLetterScript.run(redis, keys, ['g', id, 1, 'invalid', 'Error: no', 100])).toBe(1)
    const letters = (await redis.xrange(keys[1]!, '-', '+')) as Array<[string, string[]]>
    expect(letters[0]![1]).toEqual(expect.arrayContaining(['d', '"huge"', 'f0', '0', 'f998', '998']))
    expect(letters[0]![1]).not.toContain('x-fields')
  })

  it('reclaim dead-letters an entry of 5,000 fields and still hands out the entries beside it', async () => {
    const keys = keysFor()
    await redis.xgroup('CREATE', keys[0]!, 'g', '0', 'MKSTREAM')
    const huge = await strandHuge(keys[0]!, 5000)
    await redis.xadd(keys[0]!, '*', 'd', 'normal')
    await redis.xreadgroup('GROUP', 'g', 'gone', 'STREAMS', keys[0]!, '>')
    // The huge entry has been delivered once more than the normal one.
    await redis.call('XCLAIM', keys[0]!, 'g', 'gone', 0, huge)
    await sleep(20)
    const [, entries, dead] = await reclaimScript.run(redis, keys, ['g', 'me', 5, '0-0', 10, 2, 100])
    expect(dead).toEqual([[huge, 3]])
    expect(entries.map(([, fields]) => fields)).toEqual([['d', 'normal']])
    const letters = (await redis.xrange(keys[1]!, '-', '+')) as Array<[string, string[]]>
    expect(letters[0]![1]).toEqual(expect.arrayContaining(['x-id', huge, 'x-fields', '5001', 'd', '"huge"']))
  })
})
