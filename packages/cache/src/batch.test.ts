import { createRedis, EncodeError, isCluster, slotOf } from '@x/redis-core'
import { countCommands, targets, uniqueName, useRedis } from '@x/testkit/vitest'
import { describe, expect, it } from 'vitest'
import { loadScripts } from '../test/load-scripts.js'
import { createCache } from './index.js'

describe.each(targets())('$name', (target) => {
  const redis = useRedis(target, createRedis)
  const fresh = () => `${target.prefix}:${uniqueName('b')}`

  const slotGroups = (prefix: string, keys: string[]) =>
    isCluster(redis) ? new Set(keys.map((key) => slotOf(`${prefix}:#v:${key}`))).size : 1

  it('setMany stores every entry with one pipeline per slot group', async () => {
    const cache = createCache({ redis, prefix: fresh() })
    const keys = Array.from({ length: 50 }, (_, index) => `k${index}`)
    await cache.setMany(keys.map((key, index) => ({ key, value: { index } })))
    expect(await cache.getMany(keys)).toEqual(keys.map((_, index) => ({ index })))
  })

  it('getMany is one MGET per slot group', async () => {
    const cache = createCache({ redis, prefix: fresh() })
    const keys = ['{u}a', '{u}b', '{u}c', 'x', 'y']
    await cache.setMany(keys.map((key) => ({ key, value: key })))
    const counted = countCommands(redis)
    try {
      expect(await cache.getMany([...keys, 'missing'])).toEqual([...keys, undefined])
      expect(counted.names().every((name) => name.toLowerCase() === 'mget')).toBe(true)
      expect(counted.count()).toBe(slotGroups(cache.prefix, [...keys, 'missing']))
    } finally {
      counted.restore()
    }
  })

  it('getOrSetMany calls the batch fetcher once for all misses and stores them', async () => {
    const cache = createCache({ redis, prefix: fresh() })
    await cache.set('a', 'cached-a')
    const calls: string[][] = []
    const fetcher = async (keys: string[]) => {
      calls.push(keys)
      return keys.map((key) => `fetched-${key}`)
    }
    expect(await cache.getOrSetMany(['a', 'b', 'c', 'b'], fetcher)).toEqual([
      'cached-a',
      'fetched-b',
      'fetched-c',
      'fetched-b',
    ])
    expect(calls).toEqual([['b', 'c']])
    expect(await cache.getOrSetMany(['a', 'b', 'c'], fetcher)).toEqual(['cached-a', 'fetched-b', 'fetched-c'])
    expect(calls).toHaveLength(1)
  })

  it('getOrSetMany accepts a Map; keys it leaves out are returned as undefined and not cached', async () => {
    const cache = createCache({ redis, prefix: fresh() })
    const result = await cache.getOrSetMany(['a', 'b'], async () => new Map([['a', 0]]))
    expect(result).toEqual([0, undefined])
    expect(await cache.has('a')).toBe(true)
    expect(await cache.has('b')).toBe(false)
  })

  it('getOrSetMany rounds trips: reads per slot group, then one fill pipeline per slot group', async () => {
    const cache = createCache({ redis, prefix: fresh() })
    const keys = ['{g}1', '{g}2', '{g}3']
    await loadScripts(redis)
    const counted = countCommands(redis)
    try {
      await cache.getOrSetMany(keys, async (missing) => missing.map((key) => key.length))
      // One MGET (same slot) + three EVALSHA sent as one pipeline.
      expect(counted.names().map((name) => name.toLowerCase())).toEqual([
        'mget',
        'evalsha',
        'evalsha',
        'evalsha',
      ])
    } finally {
      counted.restore()
    }
    expect(await cache.getMany(keys)).toEqual([4, 4, 4])
  })

  it('getOrSetMany refuses a batch fetcher result of the wrong length', async () => {
    const cache = createCache({ redis, prefix: fresh() })
    await expect(cache.getOrSetMany(['a', 'b'], async () => [1])).rejects.toThrow(/one per key/)
  })

  it('getOrSetMany with tags: a tag invalidation during the batch fetch leaves misses', async () => {
    const cache = createCache({ redis, prefix: fresh() })
    const result = await cache.getOrSetMany(
      ['a', 'b'],
      async (keys) => {
        await cache.invalidateTags(['t'])
        return keys
      },
      { tags: ['t'] },
    )
    expect(result).toEqual(['a', 'b'])
    expect(await cache.getMany(['a', 'b'])).toEqual([undefined, undefined])
  })

  it('setMany refuses an unencodable value before writing anything', async () => {
    const cache = createCache({ redis, prefix: fresh() })
    await expect(
      cache.setMany<unknown>([
        { key: 'a', value: 1 },
        { key: 'b', value: 2n },
      ]),
    ).rejects.toSatisfy(EncodeError.isInstance)
    expect(await cache.get('a')).toBeUndefined()
  })

  it('getMany checks tags with one extra call for all tagged entries', async () => {
    const cache = createCache({ redis, prefix: fresh() })
    await cache.setMany<unknown>([
      { key: '{s}a', value: 1, tags: ['x'] },
      { key: '{s}b', value: 2, tags: ['y'] },
      { key: '{s}c', value: 3 },
    ])
    await cache.invalidateTags(['y'])
    await loadScripts(redis)
    const counted = countCommands(redis)
    try {
      expect(await cache.getMany(['{s}a', '{s}b', '{s}c'])).toEqual([1, undefined, 3])
      expect(counted.names().map((name) => name.toLowerCase())).toEqual(['mget', 'evalsha'])
    } finally {
      counted.restore()
    }
  })
})
