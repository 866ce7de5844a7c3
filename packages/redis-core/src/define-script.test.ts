import { targets, useRedis } from '@x/testkit/vitest'
import { describe, expect, it } from 'vitest'
import { masters } from './cluster.js'
import { createRedis } from './create-redis.js'
import { defineScript } from './define-script.js'
import { keyspace } from './keyspace.js'

// KEYS[1] counter; ARGV[1] increment. Returns the new value.
const incrBy = defineScript<number>({
  name: 'incr-by',
  keys: 1,
  lua: "return redis.call('INCRBY', KEYS[1], ARGV[1])",
})

// KEYS[1], KEYS[2] two keys of one slot; returns both values after setting them.
const setPair = defineScript<[string, string]>({
  name: 'set-pair',
  keys: 2,
  lua: `redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[2])
return { redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2]) }`,
})

// Returns Lua false: ioredis 6 (RESP3) hands it back as null.
const returnsFalse = defineScript<null>({ name: 'false', keys: 1, lua: 'return false' })

describe.each(targets())('defineScript on $name', (target) => {
  const redis = useRedis(target, createRedis)
  const keys = keyspace(target.prefix)

  it('runs with EVALSHA and returns typed results', async () => {
    expect(incrBy.sha).toMatch(/^[0-9a-f]{40}$/)
    expect(await incrBy.run(redis, [keys.key('n')], [5])).toBe(5)
    expect(await incrBy.run(redis, [keys.key('n')], [2])).toBe(7)
  })

  it('falls back to EVAL after SCRIPT FLUSH on every master', async () => {
    await incrBy.run(redis, [keys.key('flush')], [1])
    await Promise.all(masters(redis).map((node) => node.script('FLUSH')))
    expect(await incrBy.run(redis, [keys.key('flush')], [1])).toBe(2)
    // EVAL cached it again: the next call succeeds with EVALSHA alone.
    const node = masters(redis)[0]!
    const [loaded] = (await node.script('EXISTS', incrBy.sha)) as number[]
    expect(typeof loaded).toBe('number')
  })

  it('load() caches the script on every master so the first call is one EVALSHA', async () => {
    await Promise.all(masters(redis).map((node) => node.script('FLUSH')))
    await incrBy.load(redis)
    for (const node of masters(redis)) {
      expect(await node.script('EXISTS', incrBy.sha)).toEqual([1])
    }
  })

  it('runs multi-key scripts on keys that share a hash tag', async () => {
    const result = await setPair.run(redis, [keys.tagged('pair', 'a'), keys.tagged('pair', 'b')], ['1', '2'])
    expect(result).toEqual(['1', '2'])
  })

  it('returns null for Lua false', async () => {
    expect(await returnsFalse.run(redis, [keys.key('f')])).toBeNull()
  })

  it('checks the number of keys before calling Redis', async () => {
    await expect(incrBy.run(redis, [])).rejects.toThrow(/takes 1 keys/)
  })

  it('surfaces Lua errors as errors', async () => {
    await redis.set(keys.key('text'), 'abc')
    await expect(incrBy.run(redis, [keys.key('text')], [1])).rejects.toThrow(/not an integer/)
  })

  it('runMany pipelines calls across slots and keeps input order, also after a flush', async () => {
    await Promise.all(masters(redis).map((node) => node.script('FLUSH')))
    const calls = Array.from({ length: 20 }, (_, i) => ({ keys: [keys.key('many', i)], args: [i] }))
    const results = await incrBy.runMany(redis, calls)
    expect(results).toEqual(calls.map((_, i) => i))
    const again = await incrBy.runMany(redis, calls)
    expect(again).toEqual(calls.map((_, i) => 2 * i))
  })

  it('runMany reports per-call errors without failing the others', async () => {
    await redis.set(keys.key('bad'), 'abc')
    const results = await incrBy.runMany(redis, [
      { keys: [keys.key('good')], args: [1] },
      { keys: [keys.key('bad')], args: [1] },
    ])
    expect(results[0]).toBe(1)
    expect(results[1]).toBeInstanceOf(Error)
  })
})
