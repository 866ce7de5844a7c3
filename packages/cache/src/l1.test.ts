import { createRedis, type RedisClient } from '@x/redis-core'
import { type RedisServer, startRedis } from '@x/testkit'
import { countCommands, eventually, targets, useRedis } from '@x/testkit/vitest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Cache, createCache } from './index.js'

type Command = { name: string; args: unknown[] }

/** Runs `action` right after `client` sends a command whose arguments match. */
function afterCommand(client: RedisClient, match: (args: string[]) => boolean, action: () => void) {
  const original = client.sendCommand.bind(client) as (command: Command, ...rest: unknown[]) => unknown
  const patched = (command: Command, ...rest: unknown[]) => {
    const sent = original(command, ...rest)
    if (match(command.args.map(String))) action()
    return sent
  }
  ;(client as unknown as { sendCommand: typeof patched }).sendCommand = patched
  return {
    restore: () => {
      ;(client as unknown as { sendCommand: typeof original }).sendCommand = original
    },
  }
}

describe.each(targets())('$name', (target) => {
  // Two instances on two connections, as two processes would be.
  const redisA = useRedis(target, createRedis)
  const redisB = useRedis(target, createRedis)
  const caches: Cache[] = []
  let counter = 0
  const fresh = () => `${target.prefix}:l${++counter}`

  // Each L1 cache opened a bus connection of its own; afterAll hooks run in reverse, so before the clients close.
  afterAll(async () => {
    for (const cache of caches) await cache.close()
  })

  async function pair(options: { ttlMs?: number } = {}) {
    const prefix = fresh()
    const a = createCache({ redis: redisA, prefix, l1: { maxEntries: 100 }, ...options })
    const b = createCache({ redis: redisB, prefix, l1: { maxEntries: 100 }, ...options })
    caches.push(a, b)
    await Promise.all([a.ready(), b.ready()])
    return { a, b }
  }

  it('hits come from memory without a Redis command', async () => {
    const { a } = await pair()
    const layers: string[] = []
    a.on('hit', (event) => layers.push(event.layer))
    await a.getOrSet('k', async () => ({ v: 1 }))
    const counted = countCommands(redisA)
    try {
      for (let index = 0; index < 10; index++)
        expect(await a.getOrSet('k', async () => ({ v: 2 }))).toEqual({ v: 1 })
      expect(await a.get('k')).toEqual({ v: 1 })
      expect(counted.count()).toBe(0)
    } finally {
      counted.restore()
    }
    expect(a.stats().l1Hits).toBe(11)
    expect(layers.every((layer) => layer === 'l1')).toBe(true)
  })

  it('a set racing a delete leaves L1 agreeing with Redis', async () => {
    const { a } = await pair()
    const plain = createCache({ redis: redisB, prefix: a.prefix })
    for (let round = 0; round < 5; round++) {
      const key = `k${round}`
      await Promise.all([a.set(key, 'v1'), a.delete(key)])
      expect(await a.get(key), key).toEqual(await plain.get(key))
    }
  })

  it('an update whose commit is answered after a delete was sent keeps the value out of L1', async () => {
    const { a } = await pair()
    const plain = createCache({ redis: redisB, prefix: a.prefix })
    let deleting: Promise<boolean> | undefined
    const hook = afterCommand(
      redisA,
      (args) => args.includes('commit'),
      () => {
        deleting = a.delete('k')
      },
    )
    try {
      expect(await a.update('k', async () => 'v1')).toBe('v1')
    } finally {
      hook.restore()
    }
    expect(deleting).toBeDefined()
    await deleting
    expect(await plain.get('k')).toBeUndefined()
    expect(await a.get('k')).toBeUndefined()
  })

  it('a caller cannot change what the next caller reads from L1', async () => {
    type Doc = { list: number[]; nested: { n: number } }
    const { a, b } = await pair()
    const mine: Doc = { list: [1], nested: { n: 1 } }
    await a.set('set', mine)
    // The object passed to set() stays the caller's own, mutable and not shared.
    mine.nested.n = 99
    const fetched: Doc = { list: [1], nested: { n: 1 } }
    await a.getOrSet('fetched', async () => fetched)
    fetched.list.push(99)
    await a.set('read', { list: [1], nested: { n: 1 } })
    // Read until b serves it from memory (a fill that overlaps the set's own bus message is skipped).
    await eventually(async () => {
      await b.get('read')
      return b.stats().l1Hits > 0
    })
    for (const [cache, key] of [
      [a, 'set'],
      [a, 'fetched'],
      [b, 'read'],
    ] as const) {
      const served = (await cache.get<Doc>(key))!
      expect(() => {
        served.nested.n = 2
      }, key).toThrow(TypeError)
      expect(() => served.list.push(2), key).toThrow(TypeError)
      expect(await cache.get(key), key).toEqual({ list: [1], nested: { n: 1 } })
    }
  })

  it('a delete on one instance evicts the key from the other instance L1 through the bus', async () => {
    const { a, b } = await pair()
    await a.set('k', 'v1')
    // The set's own bus message may still be on its way; an L1 fill that overlaps an invalidation is skipped.
    await eventually(async () => (await b.get('k')) === 'v1' && b.stats().l1Hits > 0)
    const seen: unknown[] = []
    b.on('invalidation', (event) => seen.push(event))
    await a.delete('k')
    await eventually(() => seen.length === 1)
    expect(seen[0]).toEqual({ keys: [`${a.prefix}:#v:k`], source: 'bus' })
    expect(await b.get('k')).toBeUndefined()
  })

  it('write-through, tag and prefix invalidations reach the other instance', async () => {
    const { a, b } = await pair()
    await a.setMany([
      { key: 'w', value: 1 },
      { key: 't', value: 1, tags: ['tag'] },
      { key: 'p:1', value: 1 },
    ])
    for (const key of ['w', 't', 'p:1']) expect(await b.get(key)).toBe(1)
    let messages = 0
    b.on('invalidation', () => messages++)
    await a.set('w', 2)
    await a.invalidateTags(['tag'])
    await a.deleteByPrefix('p:')
    await eventually(() => messages === 3)
    expect(await b.get('w')).toBe(2)
    expect(await b.get('t')).toBeUndefined()
    expect(await b.get('p:1')).toBeUndefined()
  })

  it('an L1 entry never outlives its fresh time in Redis', async () => {
    const { a } = await pair({ ttlMs: 1000 })
    let calls = 0
    await a.getOrSet('k', async () => ++calls)
    expect(await a.getOrSet('k', async () => ++calls)).toBe(1)
    await eventually(async () => (await a.getOrSet('k', async () => ++calls)) === 2, 15_000)
  })

  it('the bus message carries keys, never values', async () => {
    const prefix = fresh()
    const a = createCache({ redis: redisA, prefix, l1: {} })
    caches.push(a)
    const listener = target.client()
    const messages: string[] = []
    listener.on('message', (_channel: string, message: string) => messages.push(message))
    await listener.subscribe(`${prefix}:#bus`)
    await a.set('secret', { password: 'hunter2' })
    await eventually(() => messages.length === 1)
    expect(messages[0]).toContain('secret')
    expect(messages[0]).not.toContain('hunter2')
  })

  it('the L1 is bounded (least recently used entries go first)', async () => {
    const prefix = fresh()
    const a = createCache({ redis: redisA, prefix, l1: { maxEntries: 3 } })
    caches.push(a)
    for (const key of ['a', 'b', 'c']) await a.set(key, key)
    await a.get('a')
    await a.set('d', 'd')
    const counted = countCommands(redisA)
    try {
      for (const key of ['a', 'c', 'd']) await a.get(key)
      expect(counted.count()).toBe(0)
      await a.get('b')
      expect(counted.count()).toBe(1)
    } finally {
      counted.restore()
    }
  })
})

// A server of its own: the tests restart it, which would cut every connection of the files sharing one.
describe('bus reconnect', () => {
  let server: RedisServer
  let redis: RedisClient

  beforeAll(async () => {
    server = await startRedis()
    redis = createRedis({ url: server.url })
  })
  afterAll(async () => {
    redis.disconnect()
    await server.stop()
  })

  it('clears L1 after the bus reconnects, since messages may have been missed', async () => {
    const cache = createCache({ redis, prefix: 'reconnect', l1: {} })
    cache.on('error', () => {})
    await cache.ready()
    await cache.set('k', 'v')
    const counted = countCommands(redis)
    await cache.get('k')
    expect(counted.count()).toBe(0)
    let cleared = false
    cache.on('invalidation', (event) => {
      if (event.source === 'bus' && event.prefix === '') cleared = true
    })
    await server.restart()
    await eventually(() => cleared, 15_000)
    await eventually(async () => redis.status === 'ready', 15_000)
    counted.reset()
    await cache.get('k')
    // The value is gone from Redis too (restarted without persistence); what matters: L1 was not used.
    expect(counted.count()).toBe(1)
    counted.restore()
    await cache.close()
  })

  it('the bus listens again after a reconnect even when the client has autoResubscribe off', async () => {
    const deafByDefault = createRedis({ url: server.url, redisOptions: { autoResubscribe: false } })
    const reader = createCache({ redis: deafByDefault, prefix: 'resubscribe', l1: {} })
    const writer = createCache({ redis, prefix: 'resubscribe', l1: {} })
    reader.on('error', () => {})
    writer.on('error', () => {})
    try {
      await Promise.all([reader.ready(), writer.ready()])
      let cleared = false
      reader.on('invalidation', (event) => {
        if (event.source === 'bus' && event.prefix === '') cleared = true
      })
      await server.restart()
      await eventually(() => cleared, 15_000)
      await eventually(() => deafByDefault.status === 'ready' && redis.status === 'ready', 15_000)
      await writer.set('k', 'old')
      await reader.get('k')
      // Without the bus, the reader's L1 would keep 'old' for its whole ttl (60 s).
      let round = 0
      await eventually(async () => {
        const value = `new${++round}`
        await writer.set('k', value)
        return (await reader.get('k')) === value
      }, 15_000)
    } finally {
      await reader.close()
      await writer.close()
      deafByDefault.disconnect()
    }
  })

  it('a malformed bus message is reported and clears L1', async () => {
    const errors: unknown[] = []
    const cache = createCache({ redis, prefix: 'malformed', l1: {} })
    cache.on('error', (event) => errors.push(event.error))
    await cache.ready()
    await cache.set('k', 'v')
    await server.client().publish('malformed:#bus', '{not json')
    await eventually(() => errors.length === 1)
    const counted = countCommands(redis)
    await cache.get('k')
    expect(counted.count()).toBe(1)
    counted.restore()
    await cache.close()
  })
})
