import { createRedis } from '@x/redis-core'
import { eventually, sleep, targets, useRedis } from '@x/testkit/vitest'
import { afterAll, describe, expect, it } from 'vitest'
import { LockLostError, LockNotHeldError, LockTimeoutError } from './errors.js'
import { createLock } from './lock.js'
import { lockExtend } from './scripts/lock-extend.lua.js'
import type { LockEvents } from './types.js'

/** Redis calls wait long here: the test machine may be loaded, and speed is not what these tests check. */
const PATIENT_MS = 10_000

// An unhandled rejection fails the test it happened in: the test kit's trap, set up for every file.

describe.each(targets())('withLock on $name', (target) => {
  const redis = useRedis(target, createRedis)
  const inspector = useRedis(target)
  const lock = createLock({ redis, prefix: target.prefix, redisTimeoutMs: PATIENT_MS })
  afterAll(() => lock.close())
  const errors: Array<LockEvents['error']> = []
  lock.on('error', (event) => errors.push(event))
  let resourceId = 0
  const resource = () => `wl-${++resourceId}`
  const lockKey = (name: string) => `${target.prefix}:{${name}}:lock`

  it("returns fn's result and releases the lock", async () => {
    const name = resource()
    const result = await lock.withLock(name, async (signal, lease) => {
      expect(signal.aborted).toBe(false)
      expect(await inspector.get(lockKey(name))).toBe(lease.token)
      return { value: 42 }
    })
    expect(result).toEqual({ value: 42 })
    expect(await inspector.exists(lockKey(name))).toBe(0)
  })

  it("throws fn's own error and still releases the lock", async () => {
    const name = resource()
    const failure = new Error('routine failed')
    await expect(
      lock.withLock(name, async () => {
        throw failure
      }),
    ).rejects.toBe(failure)
    expect(await inspector.exists(lockKey(name))).toBe(0)
  })

  it('accepts a synchronous fn', async () => {
    expect(await lock.withLock(resource(), () => 'sync')).toBe('sync')
  })

  it('does not run fn when the lock stays busy past the deadline', async () => {
    const name = resource()
    const holder = await lock.acquire(name)
    let ran = false
    await expect(
      lock.withLock(
        name,
        () => {
          ran = true
        },
        { waitMs: 150 },
      ),
    ).rejects.toSatisfy(LockTimeoutError.isInstance)
    expect(ran).toBe(false)
    await holder.release()
  })

  it('keeps the lock while fn runs for 5× the ttl', async () => {
    const name = resource()
    const ttl = 1000
    let observedLoss = false
    const result = await lock.withLock(
      name,
      async (signal, lease) => {
        for (let i = 0; i < 10; i++) {
          await sleep(ttl / 2)
          if (signal.aborted) observedLoss = true
          expect(await inspector.get(lockKey(name))).toBe(lease.token)
        }
        return lease.fence
      },
      { ttlMs: ttl },
    )
    expect(observedLoss).toBe(false)
    expect(result).toBeGreaterThan(0)
    expect(await inspector.exists(lockKey(name))).toBe(0)
  }, 20_000)

  it('aborts the signal with LockLostError when the key is deleted, and reports the failed release', async () => {
    const name = resource()
    const before = errors.length
    const result = await lock.withLock(
      name,
      async (signal) => {
        await inspector.del(lockKey(name))
        await eventually(() => signal.aborted, 5000)
        expect(LockLostError.isInstance(signal.reason)).toBe(true)
        return 'finished anyway'
      },
      { ttlMs: 300 },
    )
    expect(result).toBe('finished anyway')
    const reported = errors.slice(before)
    expect(
      reported.some((event) => event.operation === 'release' && LockNotHeldError.isInstance(event.error)),
    ).toBe(true)
  })

  it("a failed release never masks fn's error", async () => {
    const name = resource()
    const failure = new Error('routine failed after losing the lock')
    await expect(
      lock.withLock(name, async () => {
        await inspector.del(lockKey(name))
        throw failure
      }),
    ).rejects.toBe(failure)
  })

  it('the watchdog stops after fn returns (no extension revives the key)', async () => {
    const name = resource()
    await lock.withLock(name, () => sleep(50), { ttlMs: 150 })
    await sleep(300)
    expect(await inspector.exists(lockKey(name))).toBe(0)
  })

  it('reports nothing when fn ends while a watchdog extension is in flight', async () => {
    const name = resource()
    const before = errors.length
    // Resolves once the watchdog has sent an extension (an EVALSHA of the extend script).
    let extensionSent!: () => void
    const sent = new Promise<void>((resolve) => {
      extensionSent = resolve
    })
    const original = redis.sendCommand.bind(redis)
    const patched = (command: { name: string; args: unknown[] }, ...rest: unknown[]) => {
      const result = (original as (...args: unknown[]) => unknown)(command, ...rest)
      if (command.name === 'evalsha' && String(command.args[0]) === lockExtend.sha) extensionSent()
      return result
    }
    ;(redis as unknown as { sendCommand: typeof patched }).sendCommand = patched
    try {
      // fn returns right after the extension went out: its reply arrives after release() started.
      await lock.withLock(name, () => sent, { ttlMs: 3000, watchdogIntervalMs: 1 })
    } finally {
      ;(redis as unknown as { sendCommand: typeof original }).sendCommand = original
    }
    // The extension's reply came before the release's on the same connection; let its handlers run.
    await new Promise((resolve) => setImmediate(resolve))
    expect(errors.slice(before)).toEqual([])
  })

  it('gives fn the lease, whose fence matches inspect', async () => {
    const name = resource()
    await lock.withLock(name, async (_signal, lease) => {
      expect((await lock.inspect(name)).fence).toBe(lease.fence)
    })
  })
})
