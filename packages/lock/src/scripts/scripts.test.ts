import { createRedis } from '@x/redis-core'
import { waitFor } from '@x/testkit'
import { targets, useRedis } from '@x/testkit/vitest'
import { describe, expect, it } from 'vitest'
import { serverTimeUs } from '../__fixtures__/server-time.js'
import { fenceRaise } from './fence-raise.lua.js'
import { fenceSync } from './fence-sync.lua.js'
import { lockAcquire } from './lock-acquire.lua.js'
import { lockAcquireWaiting } from './lock-acquire-waiting.lua.js'
import { lockExtend } from './lock-extend.lua.js'
import { lockInspect } from './lock-inspect.lua.js'
import { lockRelease } from './lock-release.lua.js'
import { lockTransfer } from './lock-transfer.lua.js'
import { lockTransferOrRelease } from './lock-transfer-or-release.lua.js'
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
    ['lock:acquire', lockAcquire, '7758d1895a6554ec3afc3b7bad3dd022f8d5be51'],
    ['lock:acquire-waiting', lockAcquireWaiting, '123feca69234dc6cb2db5b29b1a4761df2c151ae'],
    ['lock:extend', lockExtend, 'd4a84a94b655164fcca07f46aa52741d845a2829'],
    ['lock:inspect', lockInspect, '1a795948b59886e94d8f395fd263dc48a0da1841'],
    ['lock:release', lockRelease, '1869c65046ac38fed6711f387bda091a1559d700'],
    ['lock:transfer', lockTransfer, '8a46804bc53c7653d409b3cef4db0916d3f14d5d'],
    ['lock:transfer-or-release', lockTransferOrRelease, '02ff8ab543bb3191fec0c3e58e338e586059ffc1'],
    ['lock:rw-acquire-read', rwAcquireRead, '8425ef6ea44ec021962800d6eb9dd289d3e2660d'],
    ['lock:rw-acquire-write', rwAcquireWrite, 'f26001127a8c28a7319dc0a6b67ee90ee4194137'],
    ['lock:rw-inspect', rwInspect, '39affa6054b2f5c1a250ae2c99981d764842e42e'],
    ['lock:rw-release-read', rwReleaseRead, '2d0f7df1df64ab51aa78cbfc4992c591bd3e6b44'],
    ['lock:rw-release-write', rwReleaseWrite, '0113bba475908ac0b70f985001131fede7e5cbf5'],
    ['lock:semaphore-acquire', semaphoreAcquire, '32f14cf5f16b0f794f589b07ed026d33ce6a079d'],
    ['lock:semaphore-extend', semaphoreExtend, 'd3733dea3cabdfd130ae72e8fa5fe8144b53f65f'],
    ['lock:semaphore-inspect', semaphoreInspect, '27933865e89b4b4a863a09c7a13b0bc8de40852d'],
    ['lock:semaphore-release', semaphoreRelease, 'c718c404440e93f3a716cf6af2d24bbc72d9efa1'],
    ['lock:semaphore-transfer', semaphoreTransfer, '94c3813b5fb8e5d8bebb2a705ffd77dbb9d5161f'],
  ])('%s', (name, script, sha) => {
    expect(script.name).toBe(name)
    expect(script.sha).toBe(sha)
    // Every script documents its KEYS and ARGV in its first line.
    expect(script.lua.split('\n')[0]).toMatch(/^-- KEYS: .* \| ARGV: /)
  })
})

describe.each(targets())('lua scripts on $name', (target) => {
  const redis = useRedis(target, createRedis)
  const subscriber = useRedis(target)
  const inspector = useRedis(target)
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
  type Keys = ReturnType<typeof keysFor>

  /** A granted reply's fence; throws when the script did not grant (the tests below expect it to). */
  const granted = ([ok, fence]: [number, number]) => {
    if (ok !== 1) throw new Error(`not granted: ${fence}`)
    return fence
  }

  // Every script that mints a fence, with what must exist before it can (a lease to hand over).
  const minting: Record<
    string,
    { setup?: (keys: Keys) => Promise<unknown>; mint: (keys: Keys) => Promise<number> }
  > = {
    'lock-acquire': { mint: (k) => lockAcquire.run(redis, [k.lock, k.fence], ['a', 5000]) },
    'lock-acquire-waiting': {
      mint: (k) => lockAcquireWaiting.run(redis, [k.lock, k.fence, k.waiters], ['a', 5000]),
    },
    'lock-transfer': {
      setup: (k) => lockAcquire.run(redis, [k.lock, k.fence], ['a', 5000]),
      mint: (k) => lockTransfer.run(redis, [k.lock, k.fence], ['a', 'b', 5000]),
    },
    'lock-transfer-or-release': {
      setup: (k) => lockAcquire.run(redis, [k.lock, k.fence], ['a', 5000]),
      mint: (k) => lockTransferOrRelease.run(redis, [k.lock, k.fence, k.waiters], ['a', 'b', 5000, 'nobody']),
    },
    'rw-acquire-read': {
      mint: async (k) => granted(await rwAcquireRead.run(redis, [k.lock, k.holders, k.fence], ['a', 5000])),
    },
    'rw-acquire-write': {
      mint: async (k) => granted(await rwAcquireWrite.run(redis, [k.lock, k.holders, k.fence], ['a', 5000])),
    },
    'semaphore-acquire': {
      mint: async (k) => granted(await semaphoreAcquire.run(redis, [k.holders, k.fence], ['a', 5000, 1])),
    },
    'semaphore-transfer': {
      setup: (k) => semaphoreAcquire.run(redis, [k.holders, k.fence], ['a', 5000, 1]),
      mint: (k) => semaphoreTransfer.run(redis, [k.holders, k.fence], ['a', 'b', 5000]),
    },
  }
  const minters = Object.keys(minting)

  it.each(minters)('%s raises a counter behind the server clock to the clock, in µs', async (name) => {
    const { setup, mint } = minting[name]!
    const keys = keysFor()
    await setup?.(keys)
    await inspector.set(keys.fence, '5')
    const before = await serverTimeUs(inspector)
    const fence = await mint(keys)
    expect(Number.isSafeInteger(fence)).toBe(true)
    expect(fence).toBeGreaterThanOrEqual(before)
    // Stored as a plain integer (not 1.79e+15), which the next INCR accepts.
    expect(await inspector.get(keys.fence)).toBe(String(fence))
    expect(await inspector.incr(keys.fence)).toBe(fence + 1)
  })

  it.each(minters)('%s increments a counter ahead of the server clock by exactly 1', async (name) => {
    const { setup, mint } = minting[name]!
    const keys = keysFor()
    await setup?.(keys)
    await inspector.set(keys.fence, '9000000000000000')
    expect(await mint(keys)).toBe(9_000_000_000_000_001)
    expect(await inspector.get(keys.fence)).toBe('9000000000000001')
  })

  it('lock-acquire sets the token with a ttl and mints a fence, or returns the pttl', async () => {
    const keys = keysFor()
    const before = await serverTimeUs(inspector)
    const fence = await lockAcquire.run(redis, [keys.lock, keys.fence], ['a', 5000])
    expect(fence).toBeGreaterThanOrEqual(before)
    expect(await inspector.get(keys.lock)).toBe('a')
    const busy = await lockAcquire.run(redis, [keys.lock, keys.fence], ['b', 5000])
    // Busy: −1 − pttl.
    expect(-1 - busy).toBeGreaterThan(0)
    expect(-1 - busy).toBeLessThanOrEqual(5000)
    expect(await inspector.exists(keys.waiters)).toBe(0)
    // A busy attempt mints nothing.
    expect(await lockInspect.run(redis, [keys.lock, keys.fence])).toEqual([expect.any(Number), fence])
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
    await waitFor('the release message', () => messages.length > 0)
    // A message published by the first two releases would have arrived before this one.
    expect(messages).toEqual([keys.lock])
  })

  it('lock-acquire-waiting takes a free lock, or announces the wait for as long as the holder lives', async () => {
    const keys = keysFor()
    const first = await lockAcquireWaiting.run(redis, [keys.lock, keys.fence, keys.waiters], ['a', 300])
    expect(first).toBeGreaterThan(0)
    expect(await inspector.exists(keys.waiters)).toBe(0)
    const busy = await lockAcquireWaiting.run(redis, [keys.lock, keys.fence, keys.waiters], ['b', 60_000])
    expect(-1 - busy).toBeGreaterThan(0)
    expect(-1 - busy).toBeLessThanOrEqual(300)
    // The flag dies with the holder's lease: a waiter that crashed cannot keep it.
    const flagTtl = await inspector.pttl(keys.waiters)
    expect(flagTtl).toBeGreaterThan(0)
    expect(flagTtl).toBeLessThanOrEqual(300)
    await waitFor(
      'the lease and the flag to expire',
      async () => (await inspector.exists(keys.lock, keys.waiters)) === 0,
    )
    expect(
      await lockAcquireWaiting.run(redis, [keys.lock, keys.fence, keys.waiters], ['b', 60_000]),
    ).toBeGreaterThan(first)
  })

  it('fence-sync raises a counter and never lowers it', async () => {
    const keys = keysFor()
    await fenceSync.run(redis, [keys.fence], [9_000_000_000_000_000])
    await fenceSync.run(redis, [keys.fence], [3])
    expect(await lockInspect.run(redis, [keys.lock, keys.fence])).toEqual([-2, 9_000_000_000_000_000])
    expect(await lockAcquire.run(redis, [keys.lock, keys.fence], ['a', 1000])).toBe(9_000_000_000_000_001)
  })

  it('fence-raise sets the counter to max(counter, floor) and returns it', async () => {
    const keys = keysFor()
    expect(await fenceRaise.run(redis, [keys.fence], [0])).toBe('0')
    expect(await inspector.exists(keys.fence)).toBe(0)
    expect(await fenceRaise.run(redis, [keys.fence], [7])).toBe('7')
    expect(await fenceRaise.run(redis, [keys.fence], [3])).toBe('7')
    expect(await inspector.get(keys.fence)).toBe('7')
    expect(await fenceRaise.run(redis, [keys.fence], [9_000_000_000_000_000])).toBe('9000000000000000')
    expect(await lockAcquire.run(redis, [keys.lock, keys.fence], ['a', 1000])).toBe(9_000_000_000_000_001)
    expect(await fenceRaise.run(redis, [keys.fence], [9_007_199_254_740_991])).toBe('9007199254740991')
    expect(await inspector.get(keys.fence)).toBe('9007199254740991')
  })

  it('semaphore scripts grant up to the limit, extend and release by token, on the server clock', async () => {
    const keys = keysFor()
    const channel = `${target.prefix}:released`
    const [grantedA, fenceA] = await semaphoreAcquire.run(redis, [keys.holders, keys.fence], ['a', 5000, 2])
    const [grantedB, fenceB] = await semaphoreAcquire.run(redis, [keys.holders, keys.fence], ['b', 5000, 2])
    expect([grantedA, grantedB]).toEqual([1, 1])
    expect(fenceB).toBeGreaterThan(fenceA)
    const [grantedC, wait] = await semaphoreAcquire.run(redis, [keys.holders, keys.fence], ['c', 5000, 2])
    expect(grantedC).toBe(0)
    expect(wait).toBeGreaterThan(0)
    expect(await semaphoreExtend.run(redis, [keys.holders], ['a', 9000])).toBe(1)
    expect(await semaphoreExtend.run(redis, [keys.holders], ['zz', 9000])).toBe(0)
    const [live, next, fence] = await semaphoreInspect.run(redis, [keys.holders, keys.fence])
    // The refused attempt minted nothing.
    expect([live, fence]).toEqual([2, fenceB])
    expect(next).toBeGreaterThan(0)
    expect(await semaphoreRelease.run(redis, [keys.holders], ['a', channel])).toBe(1)
    expect(await semaphoreRelease.run(redis, [keys.holders], ['a', channel])).toBe(0)
  })

  it('semaphore-acquire prunes expired holders before counting', async () => {
    const keys = keysFor()
    const [, dead] = await semaphoreAcquire.run(redis, [keys.holders, keys.fence], ['dead', 30, 1])
    await waitFor('the holder to expire', async () => {
      const [live] = await semaphoreInspect.run(redis, [keys.holders, keys.fence])
      return live === 0
    })
    const [grantedAlive, alive] = await semaphoreAcquire.run(
      redis,
      [keys.holders, keys.fence],
      ['alive', 5000, 1],
    )
    expect(grantedAlive).toBe(1)
    expect(alive).toBeGreaterThan(dead)
    expect(await semaphoreInspect.run(redis, [keys.holders, keys.fence])).toEqual([
      1,
      expect.any(Number),
      alive,
    ])
    expect(await semaphoreExtend.run(redis, [keys.holders], ['dead', 5000])).toBe(0)
  })

  it("lock-transfer hands our lock to the next token with a new fence, never someone else's", async () => {
    const keys = keysFor()
    const first = await lockAcquire.run(redis, [keys.lock, keys.fence], ['a', 60_000])
    expect(await lockTransfer.run(redis, [keys.lock, keys.fence], ['x', 'b', 5000])).toBe(0)
    const next = await lockTransfer.run(redis, [keys.lock, keys.fence], ['a', 'b', 5000])
    expect(next).toBeGreaterThan(first)
    const [pttl, fence] = await lockInspect.run(redis, [keys.lock, keys.fence])
    expect(pttl).toBeLessThanOrEqual(5000)
    expect(fence).toBe(next)
    expect(await lockRelease.run(redis, [keys.lock, keys.waiters], ['a', 'nobody'])).toBe(0)
    expect(await lockRelease.run(redis, [keys.lock, keys.waiters], ['b', 'nobody'])).toBe(1)
    expect(await lockTransfer.run(redis, [keys.lock, keys.fence], ['b', 'c', 5000])).toBe(0)
  })

  it('lock-transfer-or-release hands our lock over while nobody announced a wait, else releases and publishes', async () => {
    const keys = keysFor()
    const all = [keys.lock, keys.fence, keys.waiters] as [string, string, string]
    const channel = `${target.prefix}:released`
    const messages: string[] = []
    subscriber.on('message', (from: string, message: string) => {
      if (from === channel) messages.push(message)
    })
    await subscriber.subscribe(channel)
    const first = await lockAcquire.run(redis, [keys.lock, keys.fence], ['a', 60_000])
    expect(await lockTransferOrRelease.run(redis, all, ['x', 'b', 5000, channel])).toBe(0)
    // Nobody announced a wait: handed over with a new fence and the next owner's ttl.
    const next = await lockTransferOrRelease.run(redis, all, ['a', 'b', 5000, channel])
    expect(next).toBeGreaterThan(first)
    expect(await inspector.get(keys.lock)).toBe('b')
    expect(await inspector.pttl(keys.lock)).toBeLessThanOrEqual(5000)
    // A waiter announced itself: released with its flag and published; no fence minted.
    expect(await lockAcquireWaiting.run(redis, all, ['w', 5000])).toBeLessThan(0)
    expect(await lockTransferOrRelease.run(redis, all, ['b', 'c', 5000, channel])).toBe(-1)
    expect(await inspector.exists(keys.lock, keys.waiters)).toBe(0)
    expect(await inspector.get(keys.fence)).toBe(String(next))
    expect(await lockTransferOrRelease.run(redis, all, ['b', 'c', 5000, channel])).toBe(0)
    await waitFor('the release message', () => messages.length > 0)
    // A message published by the hand-over would have arrived before this one.
    expect(messages).toEqual([keys.lock])
  })

  it('semaphore-transfer swaps our permit for the next token, keeping the holder count', async () => {
    const keys = keysFor()
    const [, first] = await semaphoreAcquire.run(redis, [keys.holders, keys.fence], ['a', 60_000, 1])
    expect(await semaphoreTransfer.run(redis, [keys.holders, keys.fence], ['x', 'b', 5000])).toBe(0)
    expect(await semaphoreTransfer.run(redis, [keys.holders, keys.fence], ['a', 'b', 5000])).toBeGreaterThan(
      first,
    )
    const [live] = await semaphoreInspect.run(redis, [keys.holders, keys.fence])
    expect(live).toBe(1)
    expect(await semaphoreRelease.run(redis, [keys.holders], ['a', 'nobody'])).toBe(0)
    expect(await semaphoreRelease.run(redis, [keys.holders], ['b', 'nobody'])).toBe(1)
  })
})
