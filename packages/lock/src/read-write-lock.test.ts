import { createRedis, InvalidArgumentError } from '@x/redis-core'
import { waitFor } from '@x/testkit'
import { countCommands, sleep, targets, useRedis } from '@x/testkit/vitest'
import { afterAll, describe, expect, it } from 'vitest'
import { LockTimeoutError } from './errors.js'
import { createLock } from './lock.js'
import { rwAcquireRead } from './scripts/rw-acquire-read.lua.js'
import { rwAcquireWrite } from './scripts/rw-acquire-write.lua.js'
import { rwInspect } from './scripts/rw-inspect.lua.js'
import { rwReleaseRead } from './scripts/rw-release-read.lua.js'
import { rwReleaseWrite } from './scripts/rw-release-write.lua.js'

/** Redis calls wait long here: the test machine may be loaded, and speed is not what these tests check. */
const PATIENT_MS = 10_000

describe.each(targets())('read-write lock on $name', (target) => {
  const redis = useRedis(target, createRedis)
  const lock = createLock({ redis, prefix: target.prefix, redisTimeoutMs: PATIENT_MS })
  // Polls every 20 s: only the release notifications can wake these waiters within a test.
  const slowPoll = createLock({
    redis,
    prefix: target.prefix,
    redisTimeoutMs: PATIENT_MS,
    backoff: { initialMs: 20_000, maxMs: 20_000, jitter: 'none' },
    waitMs: 25_000,
  })
  afterAll(() => Promise.all([lock.close(), slowPoll.close()]))
  let nameId = 0
  const name = () => `rw-${++nameId}`

  it('lets many readers in at once and keeps the writer out until they leave', async () => {
    const rw = lock.createReadWriteLock(name(), { ttlMs: 10_000 })
    const readers = await Promise.all([rw.read.acquire(), rw.read.acquire(), rw.read.acquire()])
    expect(new Set(readers.map((lease) => lease.fence)).size).toBe(3)
    expect(await rw.write.tryAcquire()).toBeNull()
    expect(await rw.inspect()).toMatchObject({ writer: false, readers: 3 })
    await Promise.all(readers.map((lease) => lease.release()))
    const writer = await rw.write.tryAcquire()
    expect(writer?.fence).toBeGreaterThan(Math.max(...readers.map((lease) => lease.fence)))
    await writer?.release()
  })

  it('a writer keeps readers and other writers out', async () => {
    const rw = lock.createReadWriteLock(name())
    const writer = await rw.write.acquire()
    expect(await rw.read.tryAcquire()).toBeNull()
    expect(await rw.write.tryAcquire()).toBeNull()
    await expect(rw.read.acquire({ waitMs: 100 })).rejects.toSatisfy(LockTimeoutError.isInstance)
    expect(await rw.inspect()).toMatchObject({ writer: true, readers: 0 })
    await writer.release()
  })

  it("a writer's release wakes every waiting reader", async () => {
    const rwName = name()
    const writer = await lock.createReadWriteLock(rwName).write.acquire()
    const rw = slowPoll.createReadWriteLock(rwName)
    const waiting = [rw.read.acquire(), rw.read.acquire(), rw.read.acquire()]
    await sleep(200)
    await writer.release()
    const readers = await Promise.all(waiting)
    expect(await rw.inspect()).toMatchObject({ readers: 3 })
    await Promise.all(readers.map((lease) => lease.release()))
  }, 15_000)

  it("the last reader's release wakes a waiting writer", async () => {
    const rwName = name()
    const rw = lock.createReadWriteLock(rwName)
    const readers = [await rw.read.acquire(), await rw.read.acquire()]
    const waiting = slowPoll.createReadWriteLock(rwName).write.acquire()
    await sleep(200)
    await readers[0]!.release()
    await sleep(100)
    expect(await rw.inspect()).toMatchObject({ writer: false, readers: 1 })
    await readers[1]!.release()
    const writer = await waiting
    await writer.release()
  }, 15_000)

  it('never lets a writer overlap readers or another writer under contention', async () => {
    const rw = lock.createReadWriteLock(name(), { ttlMs: 10_000 })
    let readersInside = 0
    let writersInside = 0
    let violations = 0
    let stop = false
    const errors: unknown[] = []
    const entries = Array.from({ length: 9 }, () => 0)
    // Workers 0–5 read, 6–8 write.
    const workers = entries.map(async (_, worker) => {
      const write = worker >= 6
      while (!stop) {
        try {
          await (write ? rw.write : rw.read).withLock(
            async () => {
              entries[worker]! += 1
              if (write) writersInside += 1
              else readersInside += 1
              if (writersInside > 1 || (writersInside === 1 && readersInside > 0)) violations += 1
              await sleep(Math.random() * 3)
              if (write) writersInside -= 1
              else readersInside -= 1
            },
            { waitMs: 20_000 },
          )
        } catch (error) {
          errors.push(error)
          return
        }
      }
    })
    // However slow the machine: every reader and every writer in at least twice.
    await waitFor(
      'every worker in twice',
      () => errors.length > 0 || entries.every((count) => count >= 2),
    ).finally(() => {
      stop = true
    })
    await Promise.all(workers)
    expect(errors).toEqual([])
    expect(violations).toBe(0)
  }, 60_000)

  it('a reader that dies without releasing stops blocking writers after its ttl', async () => {
    const rw = lock.createReadWriteLock(name(), { ttlMs: 200 })
    await rw.read.acquire()
    expect(await rw.write.tryAcquire()).toBeNull()
    const writer = await rw.write.acquire({ waitMs: 10_000 })
    await writer.release()
  })

  it('takes and releases each side with one script call', async () => {
    const rw = lock.createReadWriteLock(name())
    // Warm the script cache of this node, so the count has no NOSCRIPT fallback.
    await (await rw.read.acquire()).release()
    await (await rw.write.acquire()).release()
    const counter = countCommands(redis)
    try {
      const reader = await rw.read.acquire()
      await reader.release()
      const writer = await rw.write.acquire()
      await writer.release()
      expect(counter.names()).toEqual(['evalsha', 'evalsha', 'evalsha', 'evalsha'])
    } finally {
      counter.restore()
    }
  })

  it('rejects bad input before any Redis call', async () => {
    const counter = countCommands(redis)
    try {
      expect(() => lock.createReadWriteLock('')).toThrow(InvalidArgumentError)
      expect(() => lock.createReadWriteLock(name(), { ttlMs: 0 })).toThrow(InvalidArgumentError)
      const rw = lock.createReadWriteLock(name())
      await expect(rw.read.acquire({ ttlMs: Number.NaN })).rejects.toSatisfy(InvalidArgumentError.isInstance)
      await expect(rw.write.acquire({ waitMs: -1 })).rejects.toSatisfy(InvalidArgumentError.isInstance)
      expect(counter.count()).toBe(0)
    } finally {
      counter.restore()
    }
  })

  it('the rw scripts: readers share, a writer needs the lock empty, releases publish', async () => {
    const tag = name()
    const keys: [string, string, string] = [
      `${target.prefix}:{${tag}}:w`,
      `${target.prefix}:{${tag}}:r`,
      `${target.prefix}:{${tag}}:f`,
    ]
    const [writer, readers] = keys
    const [joined1, fence1] = await rwAcquireRead.run(redis, keys, ['r1', 5000])
    const [joined2, fence2] = await rwAcquireRead.run(redis, keys, ['r2', 5000])
    expect([joined1, joined2]).toEqual([1, 1])
    expect(fence2).toBeGreaterThan(fence1)
    const [blocked, wait] = await rwAcquireWrite.run(redis, keys, ['w1', 5000])
    expect(blocked).toBe(0)
    expect(wait).toBeGreaterThan(0)
    expect(await rwReleaseRead.run(redis, [readers], ['r1', 'ch', writer])).toBe(1)
    expect(await rwReleaseRead.run(redis, [readers], ['r1', 'ch', writer])).toBe(0)
    expect(await rwReleaseRead.run(redis, [readers], ['r2', 'ch', writer])).toBe(1)
    const [taken, writeFence] = await rwAcquireWrite.run(redis, keys, ['w1', 5000])
    expect(taken).toBe(1)
    // Readers and writers share one counter; the blocked attempt minted nothing.
    expect(writeFence).toBeGreaterThan(fence2)
    const [readBlocked] = await rwAcquireRead.run(redis, keys, ['r3', 5000])
    expect(readBlocked).toBe(0)
    expect(await rwInspect.run(redis, keys)).toEqual([expect.any(Number), 0, writeFence])
    expect(await rwReleaseWrite.run(redis, [writer], ['nope', 'ch'])).toBe(0)
    expect(await rwReleaseWrite.run(redis, [writer], ['w1', 'ch'])).toBe(1)
    expect(await rwInspect.run(redis, keys)).toEqual([-2, 0, writeFence])
  })
})
