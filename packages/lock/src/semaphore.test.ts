import { createRedis, InvalidArgumentError } from '@x/redis-core'
import { waitFor } from '@x/testkit'
import { countCommands, eventually, sleep, targets, useRedis } from '@x/testkit/vitest'
import { afterAll, describe, expect, it } from 'vitest'
import { LockLostError, LockNotHeldError, LockTimeoutError } from './errors.js'
import { createLock } from './lock.js'

/** Redis calls wait long here: the test machine may be loaded, and speed is not what these tests check. */
const PATIENT_MS = 10_000

describe.each(targets())('semaphore on $name', (target) => {
  const redis = useRedis(target, createRedis)
  const inspector = useRedis(target)
  const lock = createLock({ redis, prefix: target.prefix, redisTimeoutMs: PATIENT_MS })
  afterAll(() => lock.close())
  let nameId = 0
  const name = () => `sem-${++nameId}`
  const holdersKey = (semaphore: string) => `${target.prefix}:{${semaphore}}:semaphore`

  it('grants up to limit permits with the lease shape, then tryAcquire returns null', async () => {
    const semaphore = lock.createSemaphore(name(), { limit: 3, ttlMs: 5000 })
    const leases = await Promise.all([semaphore.acquire(), semaphore.acquire(), semaphore.acquire()])
    for (const lease of leases) {
      expect(lease.resource).toBe(semaphore.name)
      expect(typeof lease.token).toBe('string')
      expect(lease.fence).toBeGreaterThan(0)
      expect(lease.expiresAt).toBeGreaterThan(Date.now())
      expect(lease.signal.aborted).toBe(false)
    }
    expect(new Set(leases.map((lease) => lease.fence)).size).toBe(3)
    expect(await semaphore.tryAcquire()).toBeNull()
    expect(await inspector.zcard(holdersKey(semaphore.name))).toBe(3)
    await Promise.all(leases.map((lease) => lease.release()))
    expect(await inspector.exists(holdersKey(semaphore.name))).toBe(0)
  })

  it('acquires and releases a permit with one script call each', async () => {
    const semaphore = lock.createSemaphore(name(), { limit: 2 })
    // Warm the script cache of this node, so the count has no NOSCRIPT fallback.
    await (await semaphore.acquire()).release()
    const counter = countCommands(redis)
    try {
      const lease = await semaphore.acquire()
      expect(counter.names()).toEqual(['evalsha'])
      counter.reset()
      await lease.release()
      expect(counter.names()).toEqual(['evalsha'])
    } finally {
      counter.restore()
    }
  })

  it('never has more than limit holders under sustained contention', async () => {
    const semaphore = lock.createSemaphore(name(), { limit: 3, ttlMs: 10_000 })
    let inside = 0
    let most = 0
    let overfull = 0
    let stop = false
    const errors: unknown[] = []
    const entries = Array.from({ length: 12 }, () => 0)
    const workers = entries.map(async (_, worker) => {
      while (!stop) {
        try {
          await semaphore.withPermit(
            async () => {
              inside += 1
              entries[worker]! += 1
              most = Math.max(most, inside)
              if ((await inspector.zcard(holdersKey(semaphore.name))) > 3) overfull += 1
              await sleep(Math.random() * 5)
              inside -= 1
            },
            { waitMs: 20_000 },
          )
        } catch (error) {
          errors.push(error)
          return
        }
      }
    })
    // Contended for as long as it takes, however slow the machine: full at least once, and every
    // worker back for a second permit.
    await waitFor(
      'the semaphore full and every worker in twice',
      () => errors.length > 0 || (most >= 3 && entries.every((count) => count >= 2)),
    ).finally(() => {
      stop = true
    })
    await Promise.all(workers)
    expect(errors).toEqual([])
    expect(most).toBe(3)
    expect(overfull).toBe(0)
  }, 60_000)

  it('a holder that dies without releasing loses its permit after its ttl', async () => {
    const semaphore = lock.createSemaphore(name(), { limit: 1, ttlMs: 200 })
    const crashed = await semaphore.acquire()
    // No release: the permit must free itself. A waiter gets it once the ttl passed (however slow
    // this machine is, the waiter's permit is the next one granted after the crashed holder's).
    const next = await semaphore.acquire({ waitMs: 10_000 })
    expect(next.fence).toBeGreaterThan(crashed.fence)
    expect(crashed.held).toBe(false)
    await next.release()
    await expect(crashed.release()).rejects.toSatisfy(LockNotHeldError.isInstance)
  })

  it('a release wakes a waiter through the notification', async () => {
    const slowPoll = createLock({
      redis,
      prefix: target.prefix,
      redisTimeoutMs: PATIENT_MS,
      backoff: { initialMs: 20_000, maxMs: 20_000, jitter: 'none' },
      waitMs: 25_000,
    })
    const semaphoreName = name()
    const semaphore = lock.createSemaphore(semaphoreName, { limit: 1, ttlMs: 60_000 })
    const waitingSide = slowPoll.createSemaphore(semaphoreName, { limit: 1, ttlMs: 60_000 })
    const holder = await semaphore.acquire()
    const waiting = waitingSide.acquire()
    await sleep(150)
    await holder.release()
    const lease = await waiting
    await lease.release()
    await slowPoll.close()
  }, 15_000)

  it('a release hands the permit straight to a local waiter', async () => {
    const semaphore = lock.createSemaphore(name(), { limit: 1, ttlMs: 30_000 })
    const holder = await semaphore.acquire()
    const waiting = semaphore.acquire({ waitMs: 20_000 })
    await sleep(100)
    await holder.release()
    const next = await waiting
    expect(next.fence).toBeGreaterThan(holder.fence)
    expect(await inspector.zscore(holdersKey(semaphore.name), next.token)).not.toBeNull()
    expect(await inspector.zcard(holdersKey(semaphore.name))).toBe(1)
    await next.release()
  })

  it('times out with LockTimeoutError when no permit frees up', async () => {
    const semaphore = lock.createSemaphore(name(), { limit: 1 })
    const holder = await semaphore.acquire()
    await expect(semaphore.acquire({ waitMs: 150 })).rejects.toSatisfy(LockTimeoutError.isInstance)
    await holder.release()
  })

  it('extend keeps a permit alive but never revives an expired one', async () => {
    const semaphore = lock.createSemaphore(name(), { limit: 1, ttlMs: 100 })
    // Taken with a ttl long enough for the extension to arrive in time on a loaded machine.
    const lease = await semaphore.acquire({ ttlMs: 2000 })
    const extendedAt = performance.now()
    await lease.extend(60_000)
    // Past the original ttl, the permit is still held (the extension counts from its own call).
    await eventually(() => performance.now() - extendedAt > 2500, 10_000)
    expect(await semaphore.tryAcquire()).toBeNull()
    await lease.release()

    const short = await semaphore.acquire()
    await eventually(async () => (await semaphore.inspect()).holders === 0)
    await expect(short.extend(5000)).rejects.toSatisfy(LockLostError.isInstance)
    expect(await inspector.zscore(holdersKey(semaphore.name), short.token)).toBeNull()
  })

  it('withPermit keeps a permit past its ttl with the watchdog', async () => {
    // The watchdog extends every ttl/3, so each extension has 2/3 of the ttl to arrive: 2 s, not the
    // 400 ms that a 600 ms ttl left, which a loaded machine overran.
    const semaphore = lock.createSemaphore(name(), { limit: 1, ttlMs: 3000 })
    const result = await semaphore.withPermit(async (signal) => {
      await sleep(7000)
      expect(signal.aborted).toBe(false)
      expect(await semaphore.tryAcquire()).toBeNull()
      return 'ok'
    })
    expect(result).toBe('ok')
    expect((await semaphore.inspect()).holders).toBe(0)
  })

  it('inspect counts live holders without pruning', async () => {
    const semaphore = lock.createSemaphore(name(), { limit: 4, ttlMs: 3000 })
    expect(await semaphore.inspect()).toEqual({ holders: 0, limit: 4, nextExpiryMs: null, fence: 0 })
    const leases = [await semaphore.acquire(), await semaphore.acquire()]
    const state = await semaphore.inspect()
    expect(state.holders).toBe(2)
    // The last fence granted.
    expect(state.fence).toBe(leases[1]!.fence)
    expect(leases[1]!.fence).toBeGreaterThan(leases[0]!.fence)
    expect(state.nextExpiryMs).toBeGreaterThan(0)
    expect(state.nextExpiryMs).toBeLessThanOrEqual(3000)
    await Promise.all(leases.map((lease) => lease.release()))
  })

  it('rejects a bad limit, ttl or name before any Redis call', async () => {
    const counter = countCommands(redis)
    try {
      expect(() => lock.createSemaphore(name(), { limit: 0 })).toThrow(InvalidArgumentError)
      expect(() => lock.createSemaphore(name(), { limit: 1.5 })).toThrow(InvalidArgumentError)
      expect(() => lock.createSemaphore(name(), { limit: Number.NaN })).toThrow(InvalidArgumentError)
      expect(() => lock.createSemaphore(name(), { limit: 2, ttlMs: -1 })).toThrow(InvalidArgumentError)
      expect(() => lock.createSemaphore('', { limit: 2 })).toThrow(InvalidArgumentError)
      expect(() => lock.createSemaphore(name(), undefined as never)).toThrow(InvalidArgumentError)
      const semaphore = lock.createSemaphore(name(), { limit: 2 })
      await expect(semaphore.acquire({ ttlMs: 0 })).rejects.toSatisfy(InvalidArgumentError.isInstance)
      await expect(semaphore.acquire({ waitMs: Number.NaN })).rejects.toSatisfy(
        InvalidArgumentError.isInstance,
      )
      expect(counter.count()).toBe(0)
    } finally {
      counter.restore()
    }
  })
})
