import { createRedis } from '@x/redis-core'
import { countCommands, eventually, targets, uniqueName, useRedis } from '@x/testkit/vitest'
import { describe, expect, it, vi } from 'vitest'
import { loadScripts } from '../test/load-scripts.js'
import { createCache } from './index.js'

/** A fetcher the test releases by hand, so interleavings are exact rather than timed. */
function gate<T>(value: T) {
  let release!: () => void
  let started!: () => void
  const opened = new Promise<void>((resolve) => {
    release = resolve
  })
  const running = new Promise<void>((resolve) => {
    started = resolve
  })
  return {
    fetcher: async () => {
      started()
      await opened
      return value
    },
    running,
    release,
  }
}

describe.each(targets())('$name', (target) => {
  const redis = useRedis(target, createRedis)
  const other = useRedis(target, createRedis)
  const fresh = () => `${target.prefix}:${uniqueName('i')}`

  it('a fetch started before a delete does not write its older result afterwards', async () => {
    const prefix = fresh()
    const cache = createCache({ redis, prefix })
    const admin = createCache({ redis: other, prefix })
    const refused: string[] = []
    cache.on('writeRefused', (event) => refused.push(event.key))
    const slow = gate('old')
    const pending = cache.getOrSet('k', slow.fetcher)
    await slow.running
    await admin.delete('k')
    slow.release()
    expect(await pending).toBe('old')
    expect(await cache.get('k')).toBeUndefined()
    expect(refused).toEqual(['k'])
    expect(await cache.getOrSet('k', async () => 'new')).toBe('new')
    expect(await cache.get('k')).toBe('new')
  })

  it('a call that starts after a delete does not join a fetch that started before it', async () => {
    const prefix = fresh()
    const cache = createCache({ redis, prefix })
    const admin = createCache({ redis: other, prefix })
    const slow = gate('before delete')
    const first = cache.getOrSet('k', slow.fetcher)
    await slow.running
    await admin.delete('k')
    const second = cache.getOrSet('k', async () => 'after delete')
    expect(await second).toBe('after delete')
    slow.release()
    expect(await first).toBe('before delete')
    expect(await cache.get('k')).toBe('after delete')
  })

  it('a local delete also stops later callers from joining the older fetch', async () => {
    const cache = createCache({ redis, prefix: fresh() })
    await cache.set('k', 'v1')
    await cache.delete('k')
    const slow = gate('old')
    const first = cache.getOrSet('k', slow.fetcher)
    await slow.running
    await cache.delete('k')
    expect(await cache.getOrSet('k', async () => 'new')).toBe('new')
    slow.release()
    await first
    expect(await cache.get('k')).toBe('new')
  })

  it('a fetch started before a write-through set does not overwrite the newer value', async () => {
    const prefix = fresh()
    const cache = createCache({ redis, prefix })
    const admin = createCache({ redis: other, prefix })
    await cache.set('k', 'v1')
    await admin.delete('k')
    const slow = gate('v1-from-old-read')
    const pending = cache.getOrSet('k', slow.fetcher)
    await slow.running
    await admin.set('k', 'v2')
    slow.release()
    await pending
    expect(await cache.get('k')).toBe('v2')
  })

  it('a fetch started before a tag invalidation leaves only a miss behind', async () => {
    const prefix = fresh()
    const cache = createCache({ redis, prefix })
    const admin = createCache({ redis: other, prefix })
    const slow = gate('old')
    const pending = cache.getOrSet('k', slow.fetcher, { tags: ['users'] })
    await slow.running
    await admin.invalidateTags(['users'])
    slow.release()
    expect(await pending).toBe('old')
    expect(await cache.get('k')).toBeUndefined()
    expect(await cache.getOrSet('k', async () => 'new', { tags: ['users'] })).toBe('new')
    expect(await cache.get('k')).toBe('new')
  })

  it('a fetch started before update() cannot overwrite the updated value', async () => {
    const prefix = fresh()
    const cache = createCache({ redis, prefix })
    const admin = createCache({ redis: other, prefix })
    const slow = gate({ name: 'old' })
    const pending = cache.getOrSet('user:1', slow.fetcher)
    await slow.running
    expect(await admin.update('user:1', async () => ({ name: 'new' }))).toEqual({ name: 'new' })
    slow.release()
    await pending
    expect(await cache.get('user:1')).toEqual({ name: 'new' })
  })

  it('two overlapping updates never leave the older writer result cached', async () => {
    const prefix = fresh()
    const first = createCache({ redis, prefix })
    const second = createCache({ redis: other, prefix })
    const slowWriter = gate('A')
    const updateA = first.update('k', slowWriter.fetcher)
    await slowWriter.running
    await second.update('k', async () => 'B')
    slowWriter.release()
    expect(await updateA).toBe('A')
    // A committed to the source after B, but cannot prove it: the key is left invalidated.
    expect(await first.get('k')).toBeUndefined()
  })

  it('update with tags: a tag invalidation while the writer runs leaves a miss', async () => {
    const cache = createCache({ redis, prefix: fresh() })
    await cache.update(
      'k',
      async () => {
        await cache.invalidateTags(['t'])
        return 'written during an invalidation'
      },
      { tags: ['t'] },
    )
    expect(await cache.get('k')).toBeUndefined()
    await cache.update('k', async () => 'calm', { tags: ['t'] })
    expect(await cache.get('k')).toBe('calm')
  })

  it('update invalidates while the writer runs and stores its result; a throwing writer leaves a miss', async () => {
    const cache = createCache({ redis, prefix: fresh() })
    await cache.set('k', 'v1')
    const during: unknown[] = []
    await cache.update('k', async () => {
      during.push(await cache.get('k'))
      return 'v2'
    })
    expect(during).toEqual([undefined])
    expect(await cache.get('k')).toBe('v2')
    await expect(
      cache.update('k', async () => {
        throw new Error('db failed')
      }),
    ).rejects.toThrow('db failed')
    expect(await cache.get('k')).toBeUndefined()
  })

  it('invalidateTags is one command whatever the number of tagged entries', async () => {
    const cache = createCache({ redis, prefix: fresh() })
    await cache.setMany(
      Array.from({ length: 200 }, (_, index) => ({ key: `k${index}`, value: index, tags: ['all'] })),
    )
    await cache.set('untagged', 'stays')
    await cache.set('other', 'stays', { tags: ['other'] })
    expect(await cache.get('k7')).toBe(7)
    await loadScripts(redis)
    const counted = countCommands(redis)
    try {
      await cache.invalidateTags(['all', 'never-used'])
      expect(counted.names()).toEqual(['evalsha'])
    } finally {
      counted.restore()
    }
    expect(await cache.getMany(['k0', 'k7', 'k199'])).toEqual([undefined, undefined, undefined])
    expect(await cache.get('untagged')).toBe('stays')
    expect(await cache.get('other')).toBe('stays')
    expect(cache.stats().invalidations).toBe(1)
  })

  it('entries with several tags miss when any of them is invalidated; new writes are valid again', async () => {
    const cache = createCache({ redis, prefix: fresh() })
    await cache.set('post:1', 'p1', { tags: ['posts', 'user:1'] })
    await cache.set('post:2', 'p2', { tags: ['posts', 'user:2'] })
    await cache.invalidateTags(['user:1'])
    expect(await cache.get('post:1')).toBeUndefined()
    expect(await cache.get('post:2')).toBe('p2')
    await cache.set('post:1', 'p1b', { tags: ['posts', 'user:1'] })
    expect(await cache.get('post:1')).toBe('p1b')
  })

  it('tag checks use the Redis clock: a skewed app clock changes nothing', async () => {
    const cache = createCache({ redis, prefix: fresh(), ttlMs: 60_000 })
    await cache.set('k', 'v', { tags: ['t'] })
    const skewed = Date.now() + 3_600_000
    const spy = vi.spyOn(Date, 'now').mockImplementation(() => skewed)
    try {
      // The clock offset is learned from script replies; one write re-learns it.
      await cache.set('k2', 'v2', { tags: ['t'] })
      expect(await cache.get('k2')).toBe('v2')
      await cache.invalidateTags(['t'])
      expect(await cache.get('k2')).toBeUndefined()
    } finally {
      spy.mockRestore()
    }
  })

  it('tag versions outlive the entries that carry them', async () => {
    const cache = createCache({ redis, prefix: fresh(), ttlMs: 100_000, graceMs: 50_000 })
    await cache.set('k', 'v', { tags: ['t'] })
    const pttl = await target.client().pttl(`${cache.prefix}:#t:{${cache.prefix}}:t`)
    expect(pttl).toBeGreaterThan(100_000)
  })

  it('deleteByPrefix removes matching keys on every master with SCAN + UNLINK, never KEYS', async () => {
    const cache = createCache({ redis, prefix: fresh() })
    await cache.setMany<unknown>([
      ...Array.from({ length: 300 }, (_, index) => ({ key: `user:${index}`, value: index })),
      ...Array.from({ length: 20 }, (_, index) => ({ key: `post:${index}`, value: index })),
      { key: 'user*weird', value: 'glob char in key' },
    ])
    const counted = countCommands(redis)
    let removed: number
    try {
      removed = await cache.deleteByPrefix('user:')
      expect(counted.names()).not.toContain('keys')
    } finally {
      counted.restore()
    }
    expect(removed).toBe(300)
    expect(await cache.get('user:5')).toBeUndefined()
    expect(await cache.get('post:5')).toBe(5)
    expect(await cache.get('user*weird')).toBe('glob char in key')
    expect(await cache.deleteByPrefix('user*')).toBe(1)
  })

  it('deleteByPrefix stays inside its namespace', async () => {
    const cache = createCache({ redis, prefix: fresh() })
    const a = cache.namespace('a')
    await a.set('x1', 1)
    await cache.set('x1', 2)
    expect(await a.deleteByPrefix('x')).toBe(1)
    expect(await cache.get('x1')).toBe(2)
  })

  it('emits invalidation events for deletes, tags and prefixes', async () => {
    const events: unknown[] = []
    const cache = createCache({ redis, prefix: fresh() })
    cache.on('invalidation', (event) => events.push(event))
    await cache.delete('k')
    await cache.invalidateTags(['t'])
    await cache.deleteByPrefix('p')
    await eventually(() => events.length === 3)
    expect(events).toEqual([
      { keys: ['k'], source: 'local' },
      { tags: ['t'], source: 'local' },
      { prefix: 'p', source: 'local' },
    ])
  })
})
