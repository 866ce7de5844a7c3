import { describe, expect, it } from 'vitest'
import { LocalCache } from './lru.js'

describe('LocalCache', () => {
  it('evicts the least recently used entry beyond maxEntries', () => {
    const lru = new LocalCache(2, 60_000)
    lru.set('a', 1, 1000, undefined, 0)
    lru.set('b', 2, 1000, undefined, 0)
    lru.get('a', 1)
    lru.set('c', 3, 1000, undefined, 0)
    expect(lru.get('a', 1)?.value).toBe(1)
    expect(lru.get('b', 1)).toBeUndefined()
    expect(lru.size).toBe(2)
  })

  it('never keeps an entry past its fresh time or its own max ttl', () => {
    const lru = new LocalCache(10, 100)
    lru.set('a', 1, 50, undefined, 0)
    lru.set('b', 1, 10_000, undefined, 0)
    expect(lru.get('a', 49)).toBeDefined()
    expect(lru.get('a', 50)).toBeUndefined()
    expect(lru.get('b', 100)).toBeUndefined()
    lru.set('c', 1, 5, undefined, 10)
    expect(lru.get('c', 10)).toBeUndefined()
  })

  it('drops by key, prefix and tags', () => {
    const lru = new LocalCache(10, 1000)
    lru.set('p:1', 1, 500, ['x'], 0)
    lru.set('p:2', 2, 500, undefined, 0)
    lru.set('q:1', 3, 500, ['y'], 0)
    lru.deleteByTags(['x'])
    expect(lru.get('p:1', 1)).toBeUndefined()
    lru.deleteByPrefix('p:')
    expect(lru.get('p:2', 1)).toBeUndefined()
    expect(lru.get('q:1', 1)?.value).toBe(3)
    lru.clear()
    expect(lru.size).toBe(0)
  })
})
