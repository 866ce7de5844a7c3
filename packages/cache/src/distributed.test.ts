import { createRedis, type RedisClient } from '@x/redis-core'
import { sleep, targets } from '@x/testkit/vitest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCache } from './index.js'

describe.each(targets())('$name', (target) => {
  const clients: RedisClient[] = []
  let counter = 0
  const fresh = () => `${target.prefix}:d${++counter}`

  beforeAll(() => {
    for (let index = 0; index < 4; index++) clients.push(createRedis(target.connection))
  })
  afterAll(() => {
    for (const client of clients) client.disconnect()
  })

  it('4 instances on separate connections hitting a cold key run the fetcher once', async () => {
    const prefix = fresh()
    const instances = clients.map((redis) =>
      createCache({ redis, prefix, distributedSingleFlight: { leaseTtl: 5000, pollInterval: 10 } }),
    )
    let calls = 0
    const fetcher = async () => {
      calls++
      await sleep(1000)
      return { from: 'source' }
    }
    const results = await Promise.all(
      instances.flatMap((cache) => Array.from({ length: 25 }, () => cache.getOrSet('cold', fetcher))),
    )
    expect(calls).toBe(1)
    expect(results.every((result) => result.from === 'source')).toBe(true)
  })

  it('sustained: many cold keys across 4 instances, each fetched once', async () => {
    const prefix = fresh()
    const instances = clients.map((redis) =>
      createCache({ redis, prefix, distributedSingleFlight: { leaseTtl: 5000, pollInterval: 10 } }),
    )
    const calls = new Map<string, number>()
    for (let round = 0; round < 3; round++) {
      await Promise.all(
        instances.flatMap((cache) =>
          Array.from({ length: 5 }, (_, index) => {
            const key = `r${round}-k${index}`
            return cache.getOrSet(key, async () => {
              calls.set(key, (calls.get(key) ?? 0) + 1)
              await sleep(500)
              return key
            })
          }),
        ),
      )
    }
    expect(calls.size).toBe(15)
    expect([...calls.values()].every((count) => count === 1)).toBe(true)
  })

  it('a waiter fetches itself when the lease holder disappears (lease expires)', async () => {
    const prefix = fresh()
    const cache = createCache({
      redis: clients[0]!,
      prefix,
      distributedSingleFlight: { leaseTtl: 300, pollInterval: 10 },
    })
    // A holder that crashed: its lease exists, its value never lands.
    await target.client().set(`${prefix}:#l:k`, 'crashed-holder', 'PX', 300)
    let calls = 0
    const value = await cache.getOrSet('k', async () => {
      calls++
      return 'fetched by waiter'
    })
    expect(value).toBe('fetched by waiter')
    expect(calls).toBe(1)
    expect(await cache.get('k')).toBe('fetched by waiter')
  })

  it("a waiter whose poll saw no value yet but the lease already gone takes the holder's value", async () => {
    const prefix = fresh()
    // Its own connection: the waiter's GET and EXISTS are intercepted to force the interleaving.
    const redis = createRedis(target.connection)
    const cache = createCache({
      redis,
      prefix,
      distributedSingleFlight: { leaseTtl: 5000, pollInterval: 10 },
    })
    const holder = createCache({ redis: clients[0]!, prefix })
    await target.client().set(`${prefix}:#l:k`, 'holder', 'PX', 5000)
    // The first poll's GET (the waiter's second GET, after its lookup) is served before the holder
    // fills, its EXISTS after the holder releases.
    let pollGet!: () => void
    const getServed = new Promise<void>((resolve) => {
      pollGet = resolve
    })
    let openGate!: () => void
    const gate = new Promise<void>((resolve) => {
      openGate = resolve
    })
    const get = redis.get.bind(redis)
    const exists = redis.exists.bind(redis)
    let gets = 0
    redis.get = ((full: string) =>
      get(full).then((raw) => {
        if (++gets === 2) pollGet()
        return raw
      })) as typeof redis.get
    redis.exists = ((...args: Parameters<typeof exists>) =>
      gate.then(() => exists(...args))) as typeof redis.exists
    try {
      let calls = 0
      const waiting = cache.getOrSet('k', async () => {
        calls++
        return 'fetched by waiter'
      })
      await getServed
      await holder.set('k', 'from holder')
      await target.client().del(`${prefix}:#l:k`)
      openGate()
      expect(await waiting).toBe('from holder')
      expect(calls).toBe(0)
    } finally {
      await cache.close()
      redis.disconnect()
    }
  })

  it('the lease is released after the fetch, so the next miss does not wait', async () => {
    const prefix = fresh()
    const cache = createCache({ redis: clients[0]!, prefix, distributedSingleFlight: true })
    await cache.getOrSet('k', async () => 1)
    await cache.delete('k')
    const inspect = target.client()
    for (let attempt = 0; attempt < 50 && (await inspect.exists(`${prefix}:#l:k`)) === 1; attempt++)
      await sleep(20)
    expect(await inspect.exists(`${prefix}:#l:k`)).toBe(0)
    expect(await cache.getOrSet('k', async () => 2)).toBe(2)
  })
})
