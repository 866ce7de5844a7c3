import { createRedis, type RedisClient } from '@x/redis-core'
import { eventually, targets } from '@x/testkit/vitest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fenceRaise } from './fence-raise.lua.js'
import { fenceSync } from './fence-sync.lua.js'
import { lockAcquire } from './lock-acquire.lua.js'
import { lockAcquireWaiting } from './lock-acquire-waiting.lua.js'
import { lockExtend } from './lock-extend.lua.js'
import { lockInspect } from './lock-inspect.lua.js'
import { lockRelease } from './lock-release.lua.js'
import { lockTransfer } from './lock-transfer.lua.js'
import { rwAcquireRead } from './rw-acquire-read.lua.js'
import { rwAcquireWrite } from './rw-acquire-write.lua.js'
import { rwInspect } from './rw-inspect.lua.js'
import { rwReleaseRead } from './rw-release-read.lua.js'
import { rwReleaseWrite } from './rw-release-write.lua.js'
import { semaphoreAcquire } from './semaphore-acquire.lua.js'
import { semaphoreExtend } from './semaphore-extend.lua.js'
import { semaphoreInspect } from './semaphore-inspect.lua.js'
import { semaphoreRelease } from './semaphore-release.lua.js'
import { semaphoreTransfer } from './semaphore-transfer.lua.js'

// A changed script is a new SHA on every server (and a NOSCRIPT round for every client): when one
// of these fails, the change to the Lua was meant to happen, or it should not have.
describe('script names and SHAs are pinned', () => {
  it.each([
    ['lock:raise-fence', fenceRaise, '73cb63072975858026516c6322260b495353c600'],
    ['lock:sync-fence', fenceSync, '39449cc87a9ec830f40b1da05c8f307a00219220'],
    ['lock:acquire', lockAcquire, '20f6bafb42d6a3f78178d634d2332ec8d4a88071'],
    ['lock:acquire-waiting', lockAcquireWaiting, 'ba0df08e0c61708e0564a945f2acb4c78787016e'],
    ['lock:extend', lockExtend, 'd4a84a94b655164fcca07f46aa52741d845a2829'],
    ['lock:inspect', lockInspect, '1a795948b59886e94d8f395fd263dc48a0da1841'],
    ['lock:release', lockRelease, '1869c65046ac38fed6711f387bda091a1559d700'],
    ['lock:transfer', lockTransfer, 'aa31b0c7d3b7f04f215e0c06e9df830757a5d9b9'],
    ['lock:rw-acquire-read', rwAcquireRead, '32fb4939719b724ebb8093d07b5361457767f580'],
    ['lock:rw-acquire-write', rwAcquireWrite, '98c2eaf757f34aef96a97c8c6341188e24ed67d2'],
    ['lock:rw-inspect', rwInspect, '39affa6054b2f5c1a250ae2c99981d764842e42e'],
    ['lock:rw-release-read', rwReleaseRead, '2d0f7df1df64ab51aa78cbfc4992c591bd3e6b44'],
    ['lock:rw-release-write', rwReleaseWrite, '0113bba475908ac0b70f985001131fede7e5cbf5'],
    ['lock:semaphore-acquire', semaphoreAcquire, 'aa9a35c8a2e2570e8db64cd7cf819a56f4efc84d'],
    ['lock:semaphore-extend', semaphoreExtend, 'd3733dea3cabdfd130ae72e8fa5fe8144b53f65f'],
    ['lock:semaphore-inspect', semaphoreInspect, '27933865e89b4b4a863a09c7a13b0bc8de40852d'],
    ['lock:semaphore-release', semaphoreRelease, 'c718c404440e93f3a716cf6af2d24bbc72d9efa1'],
    ['lock:semaphore-transfer', semaphoreTransfer, 'b3ef75298a4b8ee29cf8dfa46696e25417e9bac2'],
  ])('%s', (name, script, sha) => {
    expect(script.name).toBe(name)
    expect(script.sha).toBe(sha)
    // Every script documents its KEYS and ARGV in its first line.
    expect(script.lua.split('\n')[0]).toMatch(/^-- KEYS: .* \| ARGV: /)
  })
})

describe.each(targets())('lua scripts on $name', (target) => {
  let redis: RedisClient
  let subscriber: ReturnType<typeof target.client>
  let inspector: ReturnType<typeof target.client>
  let id = 0
  const keysFor = () => {
    const tag = `s${++id}`
    return {
      lock: `${target.prefix}:{${tag}}:lock`,
      fence: `${target.prefix}:{${tag}}:fence`,
      waiters: `${target.prefix}:{${tag}}:waiters`,
      holders: `${target.prefix}:{${tag}}:semaphore`,
    }
  }

  beforeAll(() => {
    redis = createRedis(target.connection)
    subscriber = target.client()
    inspector = target.client()
  })
  afterAll(() => {
    redis.disconnect()
  })

  it('lock-acquire sets the token with a ttl and increments the fence, or returns the pttl', async () => {
    const keys = keysFor()
    expect(await lockAcquire.run(redis, [keys.lock, keys.fence], ['a', 5000])).toBe(1)
    const busy = await lockAcquire.run(redis, [keys.lock, keys.fence], ['b', 5000])
    // Busy: −1 − pttl.
    expect(-1 - busy).toBeGreaterThan(0)
    expect(-1 - busy).toBeLessThanOrEqual(5000)
    expect(await inspector.exists(keys.waiters)).toBe(0)
    expect(await lockInspect.run(redis, [keys.lock, keys.fence])).toEqual([expect.any(Number), 1])
  })

  it('lock-extend only touches a lock holding our token', async () => {
    const keys = keysFor()
    await lockAcquire.run(redis, [keys.lock, keys.fence], ['a', 1000])
    expect(await lockExtend.run(redis, [keys.lock], ['b', 60_000])).toBe(0)
    expect(await lockExtend.run(redis, [keys.lock], ['a', 60_000])).toBe(1)
    const [pttl] = await lockInspect.run(redis, [keys.lock, keys.fence])
    expect(pttl).toBeGreaterThan(1000)
    const missing = keysFor()
    expect(await lockExtend.run(redis, [missing.lock], ['a', 60_000])).toBe(0)
    expect(await lockInspect.run(redis, [missing.lock, missing.fence])).toEqual([-2, 0])
  })

  it('lock-release deletes only our lock and publishes the key only when a waiter announced itself', async () => {
    const keys = keysFor()
    const channel = `${target.prefix}:released`
    const messages: string[] = []
    subscriber.on('message', (from: string, message: string) => {
      if (from === channel) messages.push(message)
    })
    await subscriber.subscribe(channel)
    await lockAcquire.run(redis, [keys.lock, keys.fence], ['a', 5000])
    expect(await lockRelease.run(redis, [keys.lock, keys.waiters], ['b', channel])).toBe(0)
    // Nobody waits: released, nothing published.
    expect(await lockRelease.run(redis, [keys.lock, keys.waiters], ['a', channel])).toBe(1)
    expect(await lockRelease.run(redis, [keys.lock, keys.waiters], ['a', channel])).toBe(0)
    await lockAcquire.run(redis, [keys.lock, keys.fence], ['c', 5000])
    expect(
      await lockAcquireWaiting.run(redis, [keys.lock, keys.fence, keys.waiters], ['d', 5000]),
    ).toBeLessThan(0)
    expect(await lockRelease.run(redis, [keys.lock, keys.waiters], ['c', channel])).toBe(2)
    expect(await inspector.exists(keys.lock, keys.waiters)).toBe(0)
    for (let i = 0; i < 100 && messages.length === 0; i++) await new Promise((r) => setTimeout(r, 20))
    await new Promise((r) => setTimeout(r, 50))
    expect(messages).toEqual([keys.lock])
  })

  it('lock-acquire-waiting takes a free lock, or announces the wait for as long as the holder lives', async () => {
    const keys = keysFor()
    expect(await lockAcquireWaiting.run(redis, [keys.lock, keys.fence, keys.waiters], ['a', 300])).toBe(1)
    expect(await inspector.exists(keys.waiters)).toBe(0)
    const busy = await lockAcquireWaiting.run(redis, [keys.lock, keys.fence, keys.waiters], ['b', 60_000])
    expect(-1 - busy).toBeGreaterThan(0)
    expect(-1 - busy).toBeLessThanOrEqual(300)
    // The flag dies with the holder's lease: a waiter that crashed cannot keep it.
    const flagTtl = await inspector.pttl(keys.waiters)
    expect(flagTtl).toBeGreaterThan(0)
    expect(flagTtl).toBeLessThanOrEqual(300)
    await eventually(async () => (await inspector.exists(keys.lock, keys.waiters)) === 0)
    expect(await lockAcquireWaiting.run(redis, [keys.lock, keys.fence, keys.waiters], ['b', 60_000])).toBe(2)
  })

  it('fence-sync raises a counter and never lowers it', async () => {
    const keys = keysFor()
    await fenceSync.run(redis, [keys.fence], [7])
    await fenceSync.run(redis, [keys.fence], [3])
    expect(await lockInspect.run(redis, [keys.lock, keys.fence])).toEqual([-2, 7])
    expect(await lockAcquire.run(redis, [keys.lock, keys.fence], ['a', 1000])).toBe(8)
  })

  it('fence-raise sets the counter to max(counter, floor) and returns it', async () => {
    const keys = keysFor()
    expect(await fenceRaise.run(redis, [keys.fence], [0])).toBe('0')
    expect(await inspector.exists(keys.fence)).toBe(0)
    expect(await fenceRaise.run(redis, [keys.fence], [7])).toBe('7')
    expect(await fenceRaise.run(redis, [keys.fence], [3])).toBe('7')
    expect(await inspector.get(keys.fence)).toBe('7')
    expect(await lockAcquire.run(redis, [keys.lock, keys.fence], ['a', 1000])).toBe(8)
    expect(await fenceRaise.run(redis, [keys.fence], [9_007_199_254_740_991])).toBe('9007199254740991')
    expect(await inspector.get(keys.fence)).toBe('9007199254740991')
  })

  it('semaphore scripts grant up to the limit, extend and release by token, on the server clock', async () => {
    const keys = keysFor()
    const channel = `${target.prefix}:released`
    expect(await semaphoreAcquire.run(redis, [keys.holders, keys.fence], ['a', 5000, 2])).toEqual([1, 1])
    expect(await semaphoreAcquire.run(redis, [keys.holders, keys.fence], ['b', 5000, 2])).toEqual([1, 2])
    const [granted, wait] = await semaphoreAcquire.run(redis, [keys.holders, keys.fence], ['c', 5000, 2])
    expect(granted).toBe(0)
    expect(wait).toBeGreaterThan(0)
    expect(await semaphoreExtend.run(redis, [keys.holders], ['a', 9000])).toBe(1)
    expect(await semaphoreExtend.run(redis, [keys.holders], ['zz', 9000])).toBe(0)
    const [live, next, fence] = await semaphoreInspect.run(redis, [keys.holders, keys.fence])
    expect([live, fence]).toEqual([2, 2])
    expect(next).toBeGreaterThan(0)
    expect(await semaphoreRelease.run(redis, [keys.holders], ['a', channel])).toBe(1)
    expect(await semaphoreRelease.run(redis, [keys.holders], ['a', channel])).toBe(0)
  })

  it('semaphore-acquire prunes expired holders before counting', async () => {
    const keys = keysFor()
    await semaphoreAcquire.run(redis, [keys.holders, keys.fence], ['dead', 30, 1])
    await new Promise((resolve) => setTimeout(resolve, 80))
    expect(await semaphoreAcquire.run(redis, [keys.holders, keys.fence], ['alive', 5000, 1])).toEqual([1, 2])
    expect(await semaphoreInspect.run(redis, [keys.holders, keys.fence])).toEqual([1, expect.any(Number), 2])
    expect(await semaphoreExtend.run(redis, [keys.holders], ['dead', 5000])).toBe(0)
  })

  it("lock-transfer hands our lock to the next token with a new fence, never someone else's", async () => {
    const keys = keysFor()
    await lockAcquire.run(redis, [keys.lock, keys.fence], ['a', 60_000])
    expect(await lockTransfer.run(redis, [keys.lock, keys.fence], ['x', 'b', 5000])).toBe(0)
    expect(await lockTransfer.run(redis, [keys.lock, keys.fence], ['a', 'b', 5000])).toBe(2)
    const [pttl, fence] = await lockInspect.run(redis, [keys.lock, keys.fence])
    expect(pttl).toBeLessThanOrEqual(5000)
    expect(fence).toBe(2)
    expect(await lockRelease.run(redis, [keys.lock, keys.waiters], ['a', 'nobody'])).toBe(0)
    expect(await lockRelease.run(redis, [keys.lock, keys.waiters], ['b', 'nobody'])).toBe(1)
    expect(await lockTransfer.run(redis, [keys.lock, keys.fence], ['b', 'c', 5000])).toBe(0)
  })

  it('semaphore-transfer swaps our permit for the next token, keeping the holder count', async () => {
    const keys = keysFor()
    await semaphoreAcquire.run(redis, [keys.holders, keys.fence], ['a', 60_000, 1])
    expect(await semaphoreTransfer.run(redis, [keys.holders, keys.fence], ['x', 'b', 5000])).toBe(0)
    expect(await semaphoreTransfer.run(redis, [keys.holders, keys.fence], ['a', 'b', 5000])).toBe(2)
    const [live] = await semaphoreInspect.run(redis, [keys.holders, keys.fence])
    expect(live).toBe(1)
    expect(await semaphoreRelease.run(redis, [keys.holders], ['a', 'nobody'])).toBe(0)
    expect(await semaphoreRelease.run(redis, [keys.holders], ['b', 'nobody'])).toBe(1)
  })
})
