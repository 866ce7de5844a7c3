import { createRedis, type RedisClient, slotOf } from '@x/redis-core'
import { waitFor } from '@x/testkit'
import { eventually, sleep, targets, useRedis } from '@x/testkit/vitest'
import { describe, expect, it } from 'vitest'
import { createCache } from './index.js'
import { leaseKeyOf } from './lease-key.js'

const leaseOf = (prefix: string, key: string) =>
  leaseKeyOf({ valuePrefix: `${prefix}:#v:`, leasePrefix: `${prefix}:#l:` }, key)

type Command = { name: string; promise: Promise<unknown> }

/** Holds every command `client` sends after its first GET until `open()`. */
function holdAfterFirstGet(client: RedisClient): { held(): number; open(): void } {
  const original = client.sendCommand.bind(client) as (command: Command, ...rest: unknown[]) => unknown
  let seenGet = false
  let held = 0
  let release!: () => void
  const gate = new Promise<void>((resolve) => {
    release = resolve
  })
  const patched = (command: Command, ...rest: unknown[]) => {
    if (!seenGet) {
      seenGet = command.name === 'get'
      return original(command, ...rest)
    }
    held++
    void gate.then(() => original(command, ...rest))
    return command.promise
  }
  ;(client as unknown as { sendCommand: typeof patched }).sendCommand = patched
  return {
    held: () => held,
    open: () => {
      release()
      ;(client as unknown as { sendCommand: typeof original }).sendCommand = original
    },
  }
}

describe.each(targets())('$name', (target) => {
  // One connection per instance, as separate processes would have.
  const clients = Array.from({ length: 4 }, () => useRedis(target, createRedis))
  // A connection of its own for the test that holds its commands.
  const heldRedis = useRedis(target, createRedis)
  let counter = 0
  const fresh = () => `${target.prefix}:d${++counter}`

  it('4 instances on separate connections hitting a cold key run the fetcher once', async () => {
    const prefix = fresh()
    const instances = clients.map((redis) =>
      createCache({ redis, prefix, distributedSingleFlight: { leaseMs: 5000, pollIntervalMs: 10 } }),
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
      createCache({ redis, prefix, distributedSingleFlight: { leaseMs: 5000, pollIntervalMs: 10 } }),
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
      distributedSingleFlight: { leaseMs: 300, pollIntervalMs: 10 },
    })
    // A holder that crashed: its lease exists, its value never lands.
    await target.client().set(leaseOf(prefix, 'k'), 'crashed-holder', 'PX', 300)
    let calls = 0
    const value = await cache.getOrSet('k', async () => {
      calls++
      return 'fetched by waiter'
    })
    expect(value).toBe('fetched by waiter')
    expect(calls).toBe(1)
    expect(await cache.get('k')).toBe('fetched by waiter')
  })

  it('a lease attempt after another instance filled the key and released its lease returns that value', async () => {
    const prefix = fresh()
    const lease = { leaseMs: 5000, pollIntervalMs: 10 }
    // Its own connection: every command after its first GET is held, to force the interleaving
    // "read a miss, then the other instance fetches, fills and releases, then try the lease".
    const redis = heldRedis
    await redis.set(`${prefix}:warm`, '1')
    const late = createCache({ redis, prefix, distributedSingleFlight: lease })
    const first = createCache({ redis: clients[0]!, prefix, distributedSingleFlight: lease })
    const hold = holdAfterFirstGet(redis)
    try {
      let fetches = 0
      const fetcher = (from: string) => async () => {
        fetches++
        return from
      }
      const waiting = late.getOrSet('k', fetcher('late'))
      await eventually(() => hold.held() > 0, 10_000)
      expect(await first.getOrSet('k', fetcher('first'))).toBe('first')
      await eventually(async () => (await target.client().exists(leaseOf(prefix, 'k'))) === 0, 10_000)
      hold.open()
      expect(await waiting).toBe('first')
      expect(fetches).toBe(1)
    } finally {
      hold.open()
      await late.close()
    }
  })

  it('a waiter takes the value its lease holder filled', async () => {
    const prefix = fresh()
    const cache = createCache({
      redis: clients[1]!,
      prefix,
      distributedSingleFlight: { leaseMs: 5000, pollIntervalMs: 10 },
    })
    const holder = createCache({ redis: clients[0]!, prefix })
    await target.client().set(leaseOf(prefix, 'k'), 'holder', 'PX', 5000)
    let calls = 0
    const waiting = cache.getOrSet('k', async () => {
      calls++
      return 'fetched by waiter'
    })
    await holder.set('k', 'from holder')
    await target.client().del(leaseOf(prefix, 'k'))
    expect(await waiting).toBe('from holder')
    expect(calls).toBe(0)
  })

  it('keys whose slot no tag can name share a slot with their lease', () => {
    for (const key of ['plain', 'user:{42}:profile', 'a}b', 'x{}y', 'a{b', '}{']) {
      const valueKey = `p:#v:${key}`
      expect(slotOf(leaseOf('p', key)), key).toBe(slotOf(valueKey))
    }
  })

  it('the lease is released after the fetch, so the next miss does not wait', async () => {
    const prefix = fresh()
    // A lease that outlives the wait below: only its release can clear it in time.
    const cache = createCache({ redis: clients[0]!, prefix, distributedSingleFlight: { leaseMs: 120_000 } })
    await cache.getOrSet('k', async () => 1)
    await cache.delete('k')
    const inspect = target.client()
    // getOrSet does not wait for the release it sends; wait for it to land.
    await waitFor('the lease to be released', async () => (await inspect.exists(leaseOf(prefix, 'k'))) === 0)
    expect(await cache.getOrSet('k', async () => 2)).toBe(2)
  })
})
