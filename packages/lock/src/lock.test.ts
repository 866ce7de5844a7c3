import { createRedis, InvalidArgumentError, type RedisClient, slotOf } from '@x/redis-core'
import { countCommands, eventually, sleep, targets, useRedis } from '@x/testkit/vitest'
import { Cluster } from 'ioredis'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { serverTimeUs } from './__fixtures__/server-time.js'
import { LockLostError, LockNotHeldError, LockTimeoutError } from './errors.js'
import { createLock, type Lock } from './lock.js'
import { lockTransfer } from './scripts/lock-transfer.lua.js'
import type { Lease } from './types.js'

/** Redis calls wait long here: the test machine may be loaded, and speed is not what these tests check. */
const PATIENT_MS = 10_000

describe.each(targets())('lock on $name', (target) => {
  const redis = useRedis(target, createRedis)
  const other = useRedis(target, createRedis)
  const inspector = useRedis(target)
  const lock = createLock({ redis, prefix: target.prefix, redisTimeoutMs: PATIENT_MS })
  afterAll(() => lock.close())
  let resourceId = 0
  const resource = () => `res-${++resourceId}`
  const lockKey = (name: string) => `${target.prefix}:{${name}}:lock`
  const fenceKey = (name: string) => `${target.prefix}:{${name}}:fence`

  it('hands out a lease with a token, a fence and an expiry, stored under the resource key', async () => {
    const name = resource()
    const serverBefore = await serverTimeUs(inspector)
    const before = Date.now()
    const lease = await lock.acquire(name, { ttlMs: 5000 })
    expect(lease.resource).toBe(name)
    expect(lease.token).toMatch(/^[A-Za-z0-9_-]{21}$/)
    // An integer of the server clock in µs (a new counter starts there).
    expect(Number.isSafeInteger(lease.fence)).toBe(true)
    expect(lease.fence).toBeGreaterThanOrEqual(serverBefore)
    expect(lease.held).toBe(true)
    expect(lease.expiresAt).toBeGreaterThan(before)
    expect(lease.expiresAt).toBeLessThanOrEqual(before + 5000)
    expect(await inspector.get(lockKey(name))).toBe(lease.token)
    const pttl = await inspector.pttl(lockKey(name))
    expect(pttl).toBeGreaterThan(0)
    expect(pttl).toBeLessThanOrEqual(5000)
    await lease.release()
    expect(await inspector.exists(lockKey(name))).toBe(0)
    expect(lease.held).toBe(false)
  })

  it('mints strictly increasing fencing tokens in the acquire call, on a counter in the same slot', async () => {
    const name = resource()
    const fences: number[] = []
    for (let i = 0; i < 5; i++) {
      const lease = await lock.acquire(name)
      fences.push(lease.fence)
      expect(Number(await inspector.get(fenceKey(name)))).toBe(lease.fence)
      await lease.release()
    }
    for (let i = 1; i < fences.length; i++) expect(fences[i]).toBeGreaterThan(fences[i - 1]!)
    expect(slotOf(fenceKey(name))).toBe(slotOf(lockKey(name)))
  })

  it('acquires with one EVALSHA and releases with one EVALSHA', async () => {
    const name = resource()
    await lock.tryAcquire(name).then((lease) => lease?.release())
    const counter = countCommands(redis)
    try {
      const lease = await lock.acquire(name)
      expect(counter.names()).toEqual(['evalsha'])
      counter.reset()
      await lease.release()
      expect(counter.names()).toEqual(['evalsha'])
    } finally {
      counter.restore()
    }
  })

  it('tryAcquire returns null at once while the lock is held', async () => {
    const name = resource()
    const lease = await lock.acquire(name)
    const counter = countCommands(redis)
    try {
      expect(await lock.tryAcquire(name)).toBeNull()
      expect(counter.count()).toBe(1)
    } finally {
      counter.restore()
    }
    await lease.release()
    const next = await lock.tryAcquire(name)
    expect(next?.fence).toBeGreaterThan(lease.fence)
    await next?.release()
  })

  it('release of a lease that is no longer ours throws LockNotHeldError and keeps the new owner', async () => {
    const name = resource()
    const stale = await lock.acquire(name, { ttlMs: 60 })
    const lostEvents: unknown[] = []
    const off = lock.on('lost', (event) => lostEvents.push(event))
    await eventually(async () => (await inspector.exists(lockKey(name))) === 0)
    const current = await lock.acquire(name, { ttlMs: 5000 })
    const error = await stale.release().catch((caught: unknown) => caught)
    expect(LockNotHeldError.isInstance(error)).toBe(true)
    expect(await inspector.get(lockKey(name))).toBe(current.token)
    expect(lostEvents.length).toBeGreaterThanOrEqual(1)
    off()
    await current.release()
  })

  it('extend pushes the expiry out while the lease is ours', async () => {
    const name = resource()
    const lease = await lock.acquire(name, { ttlMs: 1000 })
    const before = lease.expiresAt
    await lease.extend(10_000)
    expect(await inspector.pttl(lockKey(name))).toBeGreaterThan(5000)
    expect(lease.expiresAt).toBeGreaterThan(before)
    await lease.release()
  })

  it('extend never revives an expired lock', async () => {
    const name = resource()
    const lease = await lock.acquire(name, { ttlMs: 50 })
    await eventually(async () => (await inspector.exists(lockKey(name))) === 0)
    const error = await lease.extend(5000).catch((caught: unknown) => caught)
    expect(LockLostError.isInstance(error)).toBe(true)
    expect(await inspector.exists(lockKey(name))).toBe(0)
    expect(lease.signal.aborted).toBe(true)
    expect(LockLostError.isInstance(lease.signal.reason)).toBe(true)
  })

  it('extend never takes over a lock that someone else holds now', async () => {
    const name = resource()
    const stale = await lock.acquire(name, { ttlMs: 50 })
    await eventually(async () => (await inspector.exists(lockKey(name))) === 0)
    const current = await lock.acquire(name, { ttlMs: 5000 })
    await expect(stale.extend(60_000)).rejects.toSatisfy(LockLostError.isInstance)
    expect(await inspector.get(lockKey(name))).toBe(current.token)
    expect(await inspector.pttl(lockKey(name))).toBeLessThanOrEqual(5000)
    await current.release()
  })

  it('a second release does nothing, and extend after release throws LockNotHeldError', async () => {
    const lease = await lock.acquire(resource())
    await lease.release()
    const counter = countCommands(redis)
    try {
      await lease.release()
      expect(counter.count()).toBe(0)
    } finally {
      counter.restore()
    }
    await expect(lease.extend()).rejects.toSatisfy(LockNotHeldError.isInstance)
  })

  it('releases through Symbol.asyncDispose', async () => {
    const name = resource()
    {
      await using lease = await lock.acquire(name)
      expect(await inspector.get(lockKey(name))).toBe(lease.token)
    }
    expect(await inspector.exists(lockKey(name))).toBe(0)
  })

  it('asyncDispose of a lost lease reports through the error event instead of throwing', async () => {
    const name = resource()
    const errors: unknown[] = []
    const off = lock.on('error', (event) => errors.push(event.error))
    const lease = await lock.acquire(name, { ttlMs: 5000 })
    await inspector.del(lockKey(name))
    await lease[Symbol.asyncDispose]()
    expect(errors.some((error) => LockNotHeldError.isInstance(error))).toBe(true)
    off()
  })

  it('the lease signal aborts with LockLostError when the lease expires', async () => {
    const lease = await lock.acquire(resource(), { ttlMs: 80 })
    const signal = lease.signal
    expect(signal.aborted).toBe(false)
    await eventually(() => signal.aborted)
    expect(LockLostError.isInstance(signal.reason)).toBe(true)
    expect(lease.held).toBe(false)
  })

  it('lease validity ignores the wall clock: stepped back it does not keep a lost lease held', async () => {
    const name = resource()
    const lease = await lock.acquire(name, { ttlMs: 300 })
    const realNow = Date.now.bind(Date)
    // The system clock steps back 60 s right after the acquire (an NTP correction, a VM resume).
    const stepped = vi.spyOn(Date, 'now').mockImplementation(() => realNow() - 60_000)
    try {
      const otherLock = createLock({ redis: other, prefix: target.prefix, redisTimeoutMs: PATIENT_MS })
      let taken: Lease | null = null
      await eventually(async () => {
        taken = await otherLock.tryAcquire(name, { ttlMs: 30_000 })
        return taken !== null
      }, 10_000)
      // Another client holds the lock now: ours must not claim to be held.
      expect(lease.held).toBe(false)
      await eventually(() => lease.signal.aborted, 10_000)
      expect(LockLostError.isInstance(lease.signal.reason)).toBe(true)
      await taken!.release()
      await otherLock.close()
    } finally {
      stepped.mockRestore()
    }
  })

  it('lease validity ignores the wall clock: stepped forward it does not lose a valid lease', async () => {
    const name = resource()
    const lease = await lock.acquire(name, { ttlMs: 30_000 })
    const realNow = Date.now.bind(Date)
    const stepped = vi.spyOn(Date, 'now').mockImplementation(() => realNow() + 60_000)
    try {
      expect(lease.held).toBe(true)
      expect(lease.signal.aborted).toBe(false)
      await lease.extend(30_000)
      expect(lease.held).toBe(true)
      // The remaining validity is measured on the monotonic clock, not against the stepped one.
      expect(lease.expiresAt - Date.now()).toBeGreaterThan(0)
      expect(lease.expiresAt - Date.now()).toBeLessThanOrEqual(30_000)
    } finally {
      stepped.mockRestore()
    }
    await lease.release()
  })

  it('inspect tells whether a resource is locked, for how long and the last fence, but not the token', async () => {
    const name = resource()
    expect(await lock.inspect(name)).toEqual({ locked: false, ttlMs: null, fence: 0 })
    const lease = await lock.acquire(name, { ttlMs: 4000 })
    const state = await lock.inspect(name)
    expect(state.locked).toBe(true)
    expect(state.ttlMs).toBeGreaterThan(0)
    expect(state.ttlMs).toBeLessThanOrEqual(4000)
    expect(state.fence).toBe(lease.fence)
    expect(JSON.stringify(state)).not.toContain(lease.token)
    await lease.release()
    expect((await lock.inspect(name)).locked).toBe(false)
  })

  it('a waiter is woken by the release notification, not by its poll', async () => {
    // The poll would come after 20 s; only the release notification can wake the waiter in time.
    const slowPoll = createLock({
      redis: other,
      prefix: target.prefix,
      redisTimeoutMs: PATIENT_MS,
      backoff: { initialMs: 20_000, maxMs: 20_000, jitter: 'none' },
      waitMs: 25_000,
    })
    const name = resource()
    const holder = await lock.acquire(name, { ttlMs: 60_000 })
    const waiting = slowPoll.acquire(name)
    await sleep(200)
    await holder.release()
    const lease = await waiting
    expect(lease.fence).toBeGreaterThan(holder.fence)
    await lease.release()
    await slowPoll.close()
  }, 15_000)

  // A Cluster's subscriber connection lives inside the Cluster client; core's createSubscriber tests
  // cover its reconnects and node switches.
  it.skipIf(target.name === 'cluster')(
    'a waiter is still woken by a release after its subscriber connection dropped and came back',
    async () => {
      // The poll would come after 20 s; only a notification (or the retry after the reconnect) can wake it.
      const connections: RedisClient[] = []
      const duplicate = other.duplicate.bind(other) as (...args: unknown[]) => RedisClient
      const spy = vi.spyOn(other, 'duplicate').mockImplementation(((...args: unknown[]) => {
        const copy = duplicate(...args)
        connections.push(copy)
        return copy
      }) as never)
      const slowPoll = createLock({
        redis: other,
        prefix: target.prefix,
        redisTimeoutMs: PATIENT_MS,
        backoff: { initialMs: 20_000, maxMs: 20_000, jitter: 'none' },
        waitMs: 25_000,
      })
      try {
        const name = resource()
        const holder = await lock.acquire(name, { ttlMs: 60_000 })
        const waiting = slowPoll.acquire(name)
        await eventually(() => slowPoll.stats().pendingWaiters === 1 && connections.length === 1, 10_000)
        const [connection] = connections as [RedisClient]
        await eventually(() => connection.status === 'ready', 10_000)
        // The subscriber's socket drops; ioredis reconnects and core's subscriber subscribes again.
        const reconnected = new Promise((resolve) => connection.once('ready', resolve))
        ;(connection as unknown as { stream: { destroy(): void } }).stream.destroy()
        await reconnected
        await holder.release()
        const lease = await waiting
        expect(lease.fence).toBeGreaterThan(holder.fence)
        await lease.release()
      } finally {
        spy.mockRestore()
        await slowPoll.close()
      }
    },
    15_000,
  )

  it('a waiter falls back to polling when the holder expires without releasing', async () => {
    const name = resource()
    const expired = await lock.acquire(name, { ttlMs: 300 })
    const lease = await lock.acquire(name, { waitMs: 10_000 })
    expect(lease.fence).toBeGreaterThan(expired.fence)
    await lease.release()
  })

  it('fails with LockTimeoutError once the wait deadline passes', async () => {
    const name = resource()
    const holder = await lock.acquire(name, { ttlMs: 30_000 })
    const started = performance.now()
    const error = await lock.acquire(name, { waitMs: 300 }).catch((caught: unknown) => caught)
    const waited = performance.now() - started
    expect(LockTimeoutError.isInstance(error)).toBe(true)
    expect(waited).toBeGreaterThanOrEqual(290)
    if (!LockTimeoutError.isInstance(error)) throw error
    expect(error.code).toBe('E_LOCK_TIMEOUT')
    expect(error.resource).toBe(name)
    expect(error.waitedMs).toBeGreaterThanOrEqual(300)
    expect(error.waitedMs).toBeLessThanOrEqual(waited)
    await holder.release()
  })

  it('waitMs 0 tries once and fails with LockTimeoutError', async () => {
    const name = resource()
    const holder = await lock.acquire(name)
    await expect(lock.acquire(name, { waitMs: 0 })).rejects.toSatisfy(LockTimeoutError.isInstance)
    await holder.release()
  })

  it('an AbortSignal cancels the wait at once with its reason', async () => {
    const name = resource()
    const holder = await lock.acquire(name, { ttlMs: 30_000 })
    const controller = new AbortController()
    const waiting = lock.acquire(name, { waitMs: 20_000, signal: controller.signal })
    await sleep(100)
    const reason = new Error('user went away')
    controller.abort(reason)
    await expect(waiting).rejects.toBe(reason)
    await holder.release()
    // The abandoned waiter holds nothing.
    expect((await lock.inspect(name)).locked).toBe(false)
  })

  it('an abort while the first wait is still subscribing rejects at once, before the subscription completes', async () => {
    const name = resource()
    const holder = await lock.acquire(name, { ttlMs: 30_000 })
    // Hold the waiter's SUBSCRIBE back until the end of the test, and observe when it is sent.
    let openGate!: () => void
    const gate = new Promise<void>((resolve) => {
      openGate = resolve
    })
    let subscribing!: () => void
    const subscribeSent = new Promise<void>((resolve) => {
      subscribing = resolve
    })
    const duplicate = other.duplicate.bind(other) as (...args: unknown[]) => RedisClient
    const spy = vi.spyOn(other, 'duplicate').mockImplementation(((...args: unknown[]) => {
      const copy = duplicate(...args)
      const subscribe = copy.subscribe.bind(copy) as (...channels: string[]) => Promise<unknown>
      ;(copy as unknown as { subscribe: typeof subscribe }).subscribe = (...channels) => {
        subscribing()
        return gate.then(() => subscribe(...channels))
      }
      return copy
    }) as never)
    const waiter = createLock({ redis: other, prefix: target.prefix, redisTimeoutMs: PATIENT_MS })
    try {
      const controller = new AbortController()
      let settled = false
      const outcome = waiter.acquire(name, { waitMs: 20_000, signal: controller.signal }).then(
        (lease) => lease,
        (error: unknown) => error,
      )
      void outcome.then(() => {
        settled = true
      })
      await subscribeSent
      const reason = new Error('user went away')
      controller.abort(reason)
      // Only promise callbacks stand between the abort and the rejection: no timer, no Redis reply.
      await new Promise((resolve) => setImmediate(resolve))
      expect(settled).toBe(true)
      expect(await outcome).toBe(reason)
    } finally {
      openGate()
      spy.mockRestore()
      await waiter.close()
      await holder.release()
    }
  })

  it('an already aborted signal rejects without calling Redis', async () => {
    const counter = countCommands(redis)
    try {
      await expect(lock.acquire(resource(), { signal: AbortSignal.abort() })).rejects.toBeDefined()
      expect(counter.count()).toBe(0)
    } finally {
      counter.restore()
    }
  })

  it('rejects bad input with InvalidArgumentError before any Redis call', async () => {
    const counter = countCommands(redis)
    try {
      const bad: Array<() => Promise<unknown>> = [
        () => lock.acquire(''),
        () => lock.acquire('x', { ttlMs: 0 }),
        () => lock.acquire('x', { ttlMs: -5 }),
        () => lock.acquire('x', { ttlMs: Number.NaN }),
        () => lock.acquire('x', { ttlMs: 1.5 }),
        () => lock.acquire('x', { waitMs: Number.NaN }),
        () => lock.acquire('x', { waitMs: -1 }),
        () => lock.acquire('x', { ttlMs: '5m' as never }),
        () => lock.acquire('x', { waitMs: 300n as never }),
        () => lock.withLock('x', async () => 1, { watchdogIntervalMs: 0 }),
        () => lock.acquire('a{b}'),
        () => lock.acquire('x'.repeat(2000)),
        () => lock.acquire('bad\nname'),
        () => lock.tryAcquire('', {}),
        () => lock.tryAcquire('x', { ttlMs: Number.POSITIVE_INFINITY }),
        () => lock.withLock('', async () => 1),
        () => lock.withLock('x', 'nope' as never),
        () => lock.inspect(''),
        () => lock.acquire(42 as never),
      ]
      for (const call of bad) {
        const error = await call().catch((caught: unknown) => caught)
        expect(InvalidArgumentError.isInstance(error), String(error)).toBe(true)
      }
      expect(counter.count()).toBe(0)
    } finally {
      counter.restore()
    }
    expect(() => createLock({ redis, ttlMs: 0 })).toThrow(InvalidArgumentError)
    expect(() => createLock({ redis, driftFactor: 1 })).toThrow(InvalidArgumentError)
    expect(() => createLock({ redis: [] })).toThrow(InvalidArgumentError)
    expect(() => createLock({ redis, prefix: '' })).toThrow(InvalidArgumentError)
    expect(() => createLock({ redis, ttlMs: '30s' as never })).toThrow(/takes milliseconds/)
    expect(() => createLock({ redis, redisTimeoutMs: 0 })).toThrow(InvalidArgumentError)
    expect(() => createLock({ redis: 'redis://localhost' as never })).toThrow(InvalidArgumentError)
    expect(() => createLock({ redis: [redis, {} as never] })).toThrow(/redis\[1\]/)
    expect(() => createLock({ redis, backoff: { jitter: 'some' as never } })).toThrow(InvalidArgumentError)
  })

  it('accepts resource and semaphore names of up to 1024 bytes, whatever the prefix, and rejects 1025', async () => {
    const longPrefix = `${target.prefix}-${'p'.repeat(200)}`
    const wide = createLock({ redis, prefix: longPrefix, redisTimeoutMs: PATIENT_MS })
    try {
      // 1024 bytes: ASCII, and two-byte characters counted in bytes, not characters.
      for (const name of [`${resource()}-`.padEnd(1024, 'x'), 'é'.repeat(512)]) {
        expect(Buffer.byteLength(name)).toBe(1024)
        const lease = await wide.acquire(name, { ttlMs: 5000 })
        expect(await inspector.get(`${longPrefix}:{${name}}:lock`)).toBe(lease.token)
        await lease.release()
        const permit = await wide.createSemaphore(name, { limit: 1 }).acquire({ ttlMs: 5000 })
        await permit.release()
        const reader = await wide.createReadWriteLock(name).read.acquire({ ttlMs: 5000 })
        await reader.release()
      }
      for (const name of ['x'.repeat(1025), `${'é'.repeat(512)}x`]) {
        await expect(wide.acquire(name)).rejects.toSatisfy(InvalidArgumentError.isInstance)
        expect(() => wide.createSemaphore(name, { limit: 1 })).toThrow(InvalidArgumentError)
        expect(() => wide.createReadWriteLock(name)).toThrow(InvalidArgumentError)
      }
    } finally {
      await wide.close()
    }
  })

  it('never hands out a lease whose validity (ttl − elapsed − drift) is not positive', async () => {
    // drift = ttl × 0.99 + 2 ms ≥ ttl for a 100 ms ttlMs: every acquisition is born invalid.
    const strict = createLock({ redis, prefix: target.prefix, redisTimeoutMs: PATIENT_MS, driftFactor: 0.99 })
    const name = resource()
    expect(await strict.tryAcquire(name, { ttlMs: 100 })).toBeNull()
    await expect(strict.acquire(name, { ttlMs: 100, waitMs: 200 })).rejects.toSatisfy(
      LockTimeoutError.isInstance,
    )
    // The born-invalid acquisitions were released again, not left to expire.
    expect(await inspector.exists(lockKey(name))).toBe(0)
    await strict.close()
  })

  it('stats() counts acquisitions, releases, timeouts, losses and waiters without calling Redis', async () => {
    const counted = createLock({ redis, prefix: target.prefix, redisTimeoutMs: PATIENT_MS })
    const name = resource()
    expect(counted.stats()).toEqual({
      acquisitions: 0,
      releases: 0,
      timeouts: 0,
      losses: 0,
      handoffs: 0,
      redisErrors: 0,
      pendingWaiters: 0,
    })
    const lease = await counted.acquire(name, { ttlMs: 30_000 })
    const waiting = counted.acquire(name, { waitMs: 20_000 })
    await eventually(() => counted.stats().pendingWaiters === 1, 10_000)
    await lease.release()
    const second = await waiting
    await expect(counted.acquire(name, { waitMs: 0 })).rejects.toSatisfy(LockTimeoutError.isInstance)
    await inspector.del(lockKey(name))
    await expect(second.release()).rejects.toSatisfy(LockNotHeldError.isInstance)
    const counter = countCommands(redis)
    const stats = counted.stats()
    counter.restore()
    expect(counter.count()).toBe(0)
    expect(stats).toEqual({
      acquisitions: 2,
      releases: 1,
      timeouts: 1,
      losses: 1,
      // By hand-off if the waiter was already asleep when the holder released, else by notification.
      handoffs: expect.any(Number),
      redisErrors: 0,
      pendingWaiters: 0,
    })
    expect(stats.handoffs).toBeLessThanOrEqual(1)
    await counted.close()
  })

  it('emits acquired, extended and released events', async () => {
    const seen: string[] = []
    const observed = createLock({ redis, prefix: target.prefix, redisTimeoutMs: PATIENT_MS })
    observed.on('acquired', (event) => seen.push(`acquired:${event.fence}`))
    observed.on('extended', () => seen.push('extended'))
    observed.on('released', () => seen.push('released'))
    const lease = await observed.acquire(resource())
    await lease.extend()
    await lease.release()
    expect(seen).toEqual([`acquired:${lease.fence}`, 'extended', 'released'])
    await observed.close()
  })

  it('keeps different resources independent', async () => {
    const names = Array.from({ length: 40 }, () => resource())
    const leases = await Promise.all(names.map((name) => lock.acquire(name, { waitMs: 0 })))
    // Each resource has a counter of its own, which holds its lease's fence.
    const counters = await Promise.all(names.map((name) => inspector.get(fenceKey(name))))
    expect(counters).toEqual(leases.map((lease) => String(lease.fence)))
    await Promise.all(leases.map((lease) => lease.release()))
  })

  it('serializes many in-process waiters with increasing fences and no overlap', async () => {
    const name = resource()
    let inside = 0
    let overlaps = 0
    const fences: number[] = []
    await Promise.all(
      Array.from({ length: 12 }, async () => {
        for (let round = 0; round < 5; round++) {
          await lock.withLock(
            name,
            async (_signal, lease) => {
              inside += 1
              if (inside !== 1) overlaps += 1
              fences.push(lease.fence)
              await sleep(1)
              inside -= 1
            },
            { waitMs: 20_000 },
          )
        }
      }),
    )
    expect(overlaps).toBe(0)
    expect(fences).toHaveLength(60)
    expect(fences).toEqual([...fences].sort((a, b) => a - b))
    expect(new Set(fences).size).toBe(60)
  }, 30_000)

  it("hands the lock to a local waiter in one call, with the next fence and the waiter's token", async () => {
    const name = resource()
    // Slow polls, so the waiter is surely asleep (not mid-poll) when the release comes.
    const slowPoll = createLock({
      redis,
      prefix: target.prefix,
      redisTimeoutMs: PATIENT_MS,
      backoff: { initialMs: 20_000, maxMs: 20_000, jitter: 'none' },
      waitMs: 25_000,
    })
    const holder = await slowPoll.acquire(name, { ttlMs: 30_000 })
    // Load the transfer script on this node (a no-op: wrong token), so the count below has no NOSCRIPT.
    expect(await lockTransfer.run(redis, [lockKey(name), fenceKey(name)], ['nobody', 'x', 1])).toBe(0)
    const counter = countCommands(redis)
    let names: string[]
    let next: Lease
    try {
      const waiting = slowPoll.acquire(name, { ttlMs: 20_000, waitMs: 20_000 })
      // First attempt, then (subscribed) one more, then the waiter sleeps for 20 s.
      await eventually(() => counter.count() >= 2, 10_000)
      await sleep(50)
      counter.reset()
      await holder.release()
      names = counter.names()
      next = await waiting
    } finally {
      counter.restore()
    }
    expect(names).toEqual(['evalsha'])
    expect(next.fence).toBeGreaterThan(holder.fence)
    expect(await inspector.get(lockKey(name))).toBe(next.token)
    expect(await inspector.pttl(lockKey(name))).toBeLessThanOrEqual(20_000)
    await next.release()
    expect(await inspector.exists(lockKey(name))).toBe(0)
    await slowPoll.close()
  })

  /**
   * `waiters` acquires `name` while `holder` holds it, the second 50 ms after the first; once
   * `holder` is released, each takes and releases the lock in turn. Returns the leases in the order
   * they were granted, with the names of their callers.
   */
  async function inLine(waiters: Lock, name: string, holder: Lease) {
    const order: string[] = []
    const first = waiters.acquire(name, { waitMs: 20_000 }).then((lease) => {
      order.push('first')
      return lease
    })
    await sleep(50)
    const second = waiters.acquire(name, { waitMs: 20_000 }).then((lease) => {
      order.push('second')
      return lease
    })
    await sleep(50)
    await holder.release()
    const firstLease = await first
    await firstLease.release()
    const secondLease = await second
    await secondLease.release()
    return { order, firstLease, secondLease }
  }

  it('a new acquire does not overtake the local waiters already in line', async () => {
    const name = resource()
    const { order, firstLease, secondLease } = await inLine(lock, name, await lock.acquire(name))
    expect(order).toEqual(['first', 'second'])
    expect(secondLease.fence).toBeGreaterThan(firstLease.fence)
  })

  it('a waiter behind another local one never takes a freed lock by polling before it', {
    repeats: 20,
  }, async () => {
    // Both poll every millisecond, and the holder is another instance, so its release frees the lock
    // in Redis (no hand-off): the head is woken by the release message, the one behind it by its timer.
    const eager = createLock({
      redis,
      prefix: target.prefix,
      redisTimeoutMs: PATIENT_MS,
      backoff: { initialMs: 1, maxMs: 1, jitter: 'none' },
    })
    const holderLock = createLock({ redis: other, prefix: target.prefix, redisTimeoutMs: PATIENT_MS })
    const name = resource()
    const { order } = await inLine(eager, name, await holderLock.acquire(name))
    expect(order).toEqual(['first', 'second'])
    await eager.close()
    await holderLock.close()
  })

  it('with handoffLimit 0 a release always frees the lock and notifies', async () => {
    const plain = createLock({
      redis: other,
      prefix: target.prefix,
      redisTimeoutMs: PATIENT_MS,
      handoffLimit: 0,
    })
    const name = resource()
    const holder = await plain.acquire(name)
    const waiting = plain.acquire(name, { waitMs: 20_000 })
    await sleep(100)
    await holder.release()
    const next = await waiting
    expect(next.fence).toBeGreaterThan(holder.fence)
    await next.release()
    await plain.close()
  })

  it('past handoffLimit, hand-offs go on in line order while no other process waits', async () => {
    // Polls every 20 s: the waiters sleep in line, so each release finds the next one asleep.
    const limited = createLock({
      redis: other,
      prefix: target.prefix,
      redisTimeoutMs: PATIENT_MS,
      handoffLimit: 2,
      backoff: { initialMs: 20_000, maxMs: 20_000, jitter: 'none' },
      waitMs: 25_000,
    })
    const name = resource()
    const holder = await limited.acquire(name)
    const order: number[] = []
    const fences: number[] = []
    const take = async (index: number) => {
      const lease = await limited.acquire(name)
      order.push(index)
      fences.push(lease.fence)
      await lease.release()
    }
    const waiters = [take(0)]
    await eventually(() => limited.stats().pendingWaiters === 1, 10_000)
    // Queued behind the first: they sleep at once, without an attempt (so they announce nothing).
    for (let index = 1; index < 12; index++) waiters.push(take(index))
    await holder.release()
    await Promise.all(waiters)
    expect(order).toEqual(Array.from({ length: 12 }, (_, index) => index))
    for (let i = 1; i < fences.length; i++) expect(fences[i]).toBeGreaterThan(fences[i - 1]!)
    const { releases, handoffs } = limited.stats()
    expect(releases).toBe(13)
    // Through Redis: the last release (nobody left), the one past the limit that found the first
    // waiter's announcement, and at most one more if that waiter was mid-attempt at the first
    // release. Without hand-offs past the limit, every third release would be one.
    expect(releases - handoffs).toBeLessThanOrEqual(3)
    await limited.close()
  })

  it('past handoffLimit, a waiter of another instance gets the lock from a busy line of local waiters', async () => {
    const local = createLock({
      redis: other,
      prefix: target.prefix,
      redisTimeoutMs: PATIENT_MS,
      handoffLimit: 2,
    })
    const name = resource()
    let running = true
    const loops = Array.from({ length: 4 }, async () => {
      while (running) {
        const lease = await local.acquire(name, { waitMs: 20_000 })
        await lease.release()
      }
    })
    try {
      await eventually(() => local.stats().handoffs >= 10, 10_000)
      // Each of its attempts announces it; the next release past the limit lets it compete.
      const lease = await lock.acquire(name, { waitMs: 20_000 })
      expect(lease.held).toBe(true)
      await lease.release()
    } finally {
      running = false
      await Promise.all(loops)
      await local.close()
    }
  })

  it('publishes a release only when a waiter announced itself', async () => {
    const name = resource()
    const channel = `${target.prefix}:released`
    const listener = useRedis(target)
    const messages: string[] = []
    listener.on('message', (from: string, message: string) => {
      if (from === channel && message === lockKey(name)) messages.push(message)
    })
    await listener.subscribe(channel)
    const alone = await lock.acquire(name)
    await alone.release()
    const holder = await lock.acquire(name)
    const waiter = createLock({ redis: other, prefix: target.prefix, redisTimeoutMs: PATIENT_MS })
    const waiting = waiter.acquire(name, { waitMs: 20_000 })
    await eventually(async () => (await inspector.exists(`${target.prefix}:{${name}}:waiters`)) === 1, 10_000)
    await holder.release()
    await (await waiting).release()
    await eventually(() => messages.length >= 1, 10_000)
    await sleep(100)
    // Only the contended release published; the uncontended ones (before and after) did not.
    expect(messages).toEqual([lockKey(name)])
    expect(await inspector.exists(`${target.prefix}:{${name}}:waiters`)).toBe(0)
    await waiter.close()
  })

  it('a release that publishes nothing still wakes a local waiter that never reached Redis', async () => {
    // Polls every 20 s and no hand-off: only a wake-up by the release serves the second waiter in time.
    const plain = createLock({
      redis: other,
      prefix: target.prefix,
      redisTimeoutMs: PATIENT_MS,
      handoffLimit: 0,
      backoff: { initialMs: 20_000, maxMs: 20_000, jitter: 'none' },
      waitMs: 25_000,
    })
    const name = resource()
    const holder = await plain.acquire(name)
    const first = plain.acquire(name)
    await eventually(async () => (await inspector.exists(`${target.prefix}:{${name}}:waiters`)) === 1, 10_000)
    // Queued behind the first local waiter: it sleeps without an attempt, so it announces nothing.
    const second = plain.acquire(name)
    await sleep(50)
    await holder.release()
    const firstLease = await first
    // The first waiter took the lock through the published release; nobody else announced a wait.
    expect(await inspector.exists(`${target.prefix}:{${name}}:waiters`)).toBe(0)
    await firstLease.release()
    const secondLease = await second
    expect(secondLease.fence).toBeGreaterThan(firstLease.fence)
    await secondLease.release()
    await plain.close()
  }, 15_000)

  it('a hand-off to a waiter that gave up meanwhile leaves the lock free for others', async () => {
    const name = resource()
    for (let round = 0; round < 5; round++) {
      const holder = await lock.acquire(name)
      const controller = new AbortController()
      const waiting = lock
        .acquire(name, { waitMs: 20_000, signal: controller.signal })
        .catch((error) => error)
      await sleep(20)
      const released = holder.release()
      controller.abort(new Error('gave up'))
      await released
      const outcome = await waiting
      if (outcome instanceof Error) {
        await eventually(async () => !(await lock.inspect(name)).locked)
      } else {
        await outcome.release()
      }
    }
    expect((await lock.inspect(name)).locked).toBe(false)
  })

  it('raiseFence lifts the counter to a floor ahead of the server clock, in one call, and never lowers it', async () => {
    const name = resource()
    const last = await lock.acquire(name)
    await last.release()
    // Redis lost its data: the server clock still puts the next fence above the last one.
    await inspector.del(fenceKey(name))
    const after = await lock.acquire(name)
    expect(after.fence).toBeGreaterThan(last.fence)
    await after.release()
    // The protected resource remembers a fence the clock has not reached (a server clock set back).
    const ahead = after.fence + 3_600_000_000
    // A floor of 0 changes nothing; it loads the script on this node, so the next call is one EVALSHA.
    expect(await lock.raiseFence(name, 0)).toBe(after.fence)
    const counter = countCommands(redis)
    try {
      expect(await lock.raiseFence(name, ahead)).toBe(ahead)
      expect(counter.names()).toEqual(['evalsha'])
    } finally {
      counter.restore()
    }
    expect(await inspector.get(fenceKey(name))).toBe(String(ahead))
    const lease = await lock.acquire(name)
    expect(lease.fence).toBe(ahead + 1)
    await lease.release()
    // A floor below the counter leaves it alone and returns the counter.
    expect(await lock.raiseFence(name, after.fence)).toBe(ahead + 1)
    expect(await lock.raiseFence(name, 0)).toBe(ahead + 1)
    expect((await lock.inspect(name)).fence).toBe(ahead + 1)
    // Works while someone holds the lock, and on a resource that never had a lease.
    const holder = await lock.acquire(name)
    expect(await lock.raiseFence(name, ahead + 100)).toBe(ahead + 100)
    expect(holder.held).toBe(true)
    await holder.release()
    const next = await lock.acquire(name)
    expect(next.fence).toBe(ahead + 101)
    await next.release()
    const fresh = resource()
    expect(await lock.raiseFence(fresh, ahead)).toBe(ahead)
    const first = await lock.tryAcquire(fresh)
    expect(first?.fence).toBe(ahead + 1)
    await first?.release()
  })

  it('raiseFence rejects bad input with InvalidArgumentError before any Redis call', async () => {
    const counter = countCommands(redis)
    const bad: Array<[unknown, unknown]> = [
      ['', 1],
      [42, 1],
      ['x\n', 1],
      ['x', -1],
      ['x', 1.5],
      ['x', Number.NaN],
      ['x', Number.POSITIVE_INFINITY],
      ['x', 2 ** 53],
      ['x', '7'],
      ['x', undefined],
    ]
    for (const [name, floor] of bad) {
      const error = await lock.raiseFence(name as string, floor as number).catch((caught: unknown) => caught)
      expect(InvalidArgumentError.isInstance(error), `${String(name)} ${String(floor)}`).toBe(true)
    }
    counter.restore()
    expect(counter.count()).toBe(0)
  })

  it('shares one subscriber connection among all waiters of an instance', async () => {
    const name = resource()
    const counted = createLock({ redis: other, prefix: target.prefix, redisTimeoutMs: PATIENT_MS })
    const channel = `${target.prefix}:released`
    // PUBSUB NUMSUB counts the node it asks; on Cluster the subscriber may sit on any node: ask all.
    const nodes = inspector instanceof Cluster ? inspector.nodes('all') : [inspector]
    const subscribers = async () => {
      let total = 0
      for (const node of nodes)
        total += Number(((await node.call('PUBSUB', 'NUMSUB', channel)) as [string, number])[1])
      return total
    }
    const holders = await Promise.all([lock.acquire(`${name}-a`), lock.acquire(`${name}-b`)])
    const before = await subscribers()
    // Each waiter releases as soon as it gets the lock, whichever order they win in.
    const waiters = [`${name}-a`, `${name}-a`, `${name}-b`].map((key) =>
      counted.acquire(key, { waitMs: 20_000 }).then((lease) => lease.release()),
    )
    // All three stand in line, and the instance's subscription is confirmed.
    await eventually(
      async () => counted.stats().pendingWaiters === 3 && (await subscribers()) > before,
      10_000,
    )
    const during = await subscribers()
    await Promise.all(holders.map((holder) => holder.release()))
    await Promise.all(waiters)
    await counted.close()
    expect(during - before).toBe(1)
  })
})
