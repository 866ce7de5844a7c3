import { createRedis, InvalidArgumentError, type RedisClient, TimeoutError } from '@x/redis-core'
import { type RedisServer, startServers, stopAll } from '@x/testkit'
import { eventually, sleep } from '@x/testkit/vitest'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { serverTimeUs } from './__fixtures__/server-time.js'
import { LockNotHeldError, LockTimeoutError, QuorumError } from './errors.js'
import { createLock, type Lock } from './lock.js'
import type { LockEvents } from './types.js'

describe('Redlock over 3 independent servers', () => {
  let servers: RedisServer[]
  let clients: RedisClient[]
  let lock: Lock
  let resourceId = 0
  const resource = () => `rl-${++resourceId}`
  const lockKey = (name: string) => `redlock:{${name}}:lock`

  const ensureAllUp = async () => {
    for (const server of servers) if (!server.running) await server.restart()
    await eventually(
      async () =>
        (await Promise.all(clients.map((client) => client.ping().catch(() => null)))).every(Boolean),
      15_000,
    )
  }

  beforeAll(async () => {
    servers = await startServers(3)
    clients = servers.map((server) => createRedis({ url: server.url, commandTimeoutMs: 1000 }))
    lock = createLock({ redis: clients, prefix: 'redlock', redisTimeoutMs: 500 })
  }, 60_000)

  afterEach(ensureAllUp, 30_000)

  afterAll(async () => {
    await lock.close()
    for (const client of clients) client.disconnect()
    await stopAll(servers)
  })

  it('takes the lock on every server with one token and mints a fence', async () => {
    const name = resource()
    const clock = await serverTimeUs(servers[0]!.client())
    const lease = await lock.acquire(name, { ttlMs: 5000 })
    expect(Number.isSafeInteger(lease.fence)).toBe(true)
    expect(lease.fence).toBeGreaterThanOrEqual(clock)
    for (const server of servers) expect(await server.client().get(lockKey(name))).toBe(lease.token)
    await lease.release()
    for (const server of servers) expect(await server.client().exists(lockKey(name))).toBe(0)
  })

  it('acquires with one server stopped, and refuses with QuorumError with two stopped', async () => {
    const name = resource()
    await servers[2]!.kill()
    const lease = await lock.acquire(name, { ttlMs: 5000 })
    expect(lease.fence).toBeGreaterThan(0)
    await lease.release()
    await servers[1]!.kill()
    const error = await lock.acquire(name, { waitMs: 500 }).catch((caught: unknown) => caught)
    expect(QuorumError.isInstance(error)).toBe(true)
    expect(LockTimeoutError.isInstance(error)).toBe(false)
    await expect(lock.tryAcquire(name)).rejects.toSatisfy(QuorumError.isInstance)
    await expect(lock.inspect(name)).rejects.toSatisfy(QuorumError.isInstance)
    // The minority acquisition on the one live server was released again.
    expect(await servers[0]!.client().exists(lockKey(name))).toBe(0)
  }, 30_000)

  it('fails with QuorumError as soon as the acquire has no majority, cleaning up the hung servers in the background', async () => {
    const name = resource()
    const reports: Array<LockEvents['error']> = []
    const hung = createLock({
      redis: clients,
      prefix: 'redlock',
      redisTimeoutMs: 500,
    })
    hung.on('error', (event) => reports.push(event))
    // Paused, not down: their calls time out instead of failing at once.
    servers[1]!.pause()
    servers[2]!.pause()
    try {
      const error = await hung.tryAcquire(name).catch((caught: unknown) => caught)
      if (!QuorumError.isInstance(error)) throw error
      expect(error).toMatchObject({ code: 'E_LOCK_QUORUM', resource: name, answered: 1, quorum: 2 })
      // The clean-up release on the hung servers is still pending (it reports when it times out).
      expect(reports).toEqual([])
      await eventually(() => reports.length === 2, 10_000)
      for (const report of reports) {
        expect(report.operation).toBe('cleanup')
        expect(TimeoutError.isInstance(report.error)).toBe(true)
      }
      // The live server was cleaned up.
      expect(await servers[0]!.client().exists(lockKey(name))).toBe(0)
    } finally {
      servers[1]!.resume()
      servers[2]!.resume()
      await hung.close()
    }
  })

  it('releases partial acquisitions when it cannot reach a majority', async () => {
    const name = resource()
    await servers[1]!.client().set(lockKey(name), 'someone-else', 'PX', 30_000)
    await servers[2]!.client().set(lockKey(name), 'someone-else', 'PX', 30_000)
    expect(await lock.tryAcquire(name)).toBeNull()
    expect(await servers[0]!.client().exists(lockKey(name))).toBe(0)
    expect(await servers[1]!.client().get(lockKey(name))).toBe('someone-else')
    const state = await lock.inspect(name)
    expect(state.locked).toBe(true)
    expect(state.ttlMs).toBeGreaterThan(0)
  })

  it('accounts for clock drift in validity and never hands out a lease without validity left', async () => {
    const name = resource()
    const before = Date.now()
    const lease = await lock.acquire(name, { ttlMs: 10_000 })
    // drift = 1% of the ttl + 2 ms, taken off the validity counted from the start of the acquire
    expect(lease.expiresAt).toBeLessThanOrEqual(Date.now() + 10_000 - 102)
    // expiresAt is the wall clock (whole ms) plus the monotonic validity left: 1 ms of rounding.
    expect(lease.expiresAt).toBeGreaterThanOrEqual(before + 10_000 - 102 - 1)
    await lease.release()
    const strict = createLock({ redis: clients, prefix: 'redlock', driftFactor: 0.99 })
    expect(await strict.tryAcquire(name, { ttlMs: 100 })).toBeNull()
    for (const server of servers) expect(await server.client().exists(lockKey(name))).toBe(0)
    await strict.close()
  })

  it('keeps fencing tokens strictly increasing across different majorities, even after a server lost its data', async () => {
    const name = resource()
    const fences: number[] = []
    const take = async () => {
      const lease = await lock.acquire(name, { ttlMs: 5000, waitMs: 5000 })
      fences.push(lease.fence)
      await lease.release()
    }
    await take()
    await servers[2]!.kill()
    await take()
    await take()
    // Server 2 comes back empty (no persistence); then server 0 goes away: the majority is {1, 2}.
    await servers[2]!.restart()
    await eventually(async () => (await clients[2]!.ping().catch(() => null)) === 'PONG', 15_000)
    await servers[0]!.kill()
    await take()
    await servers[0]!.restart()
    await eventually(async () => (await clients[0]!.ping().catch(() => null)) === 'PONG', 15_000)
    await servers[1]!.kill()
    await take()
    for (let i = 1; i < fences.length; i++) expect(fences[i]).toBeGreaterThan(fences[i - 1]!)
  }, 60_000)

  it('keeps fences increasing when one server is ahead of the clocks and then fails: the quorum max is synced', async () => {
    const name = resource()
    const fenceKey = `redlock:{${name}}:fence`
    // Server 2's counter is an hour ahead of every clock (raised by raiseFence, or a clock set back
    // elsewhere): servers 0 and 1 alone would mint their clocks, below it.
    const ahead = (await serverTimeUs(servers[0]!.client())) + 3_600_000_000
    await servers[2]!.client().set(fenceKey, String(ahead))
    const first = await lock.acquire(name)
    await first.release()
    expect(first.fence).toBe(ahead + 1)
    for (const server of servers) expect(await server.client().get(fenceKey)).toBe(String(ahead + 1))
    await servers[2]!.kill()
    const second = await lock.acquire(name)
    await second.release()
    expect(second.fence).toBe(ahead + 2)
  }, 30_000)

  it('a waiter is woken by the release notification', async () => {
    const name = resource()
    const slowPoll = createLock({
      redis: clients,
      prefix: 'redlock',
      backoff: { initialMs: 20_000, maxMs: 20_000, jitter: 'none' },
      waitMs: 25_000,
    })
    const holder = await lock.acquire(name, { ttlMs: 60_000 })
    const waiting = slowPoll.acquire(name)
    await sleep(200)
    await holder.release()
    const lease = await waiting
    expect(lease.fence).toBeGreaterThan(holder.fence)
    await lease.release()
    await slowPoll.close()
  }, 15_000)

  it('withLock keeps a Redlock lease alive with the watchdog', async () => {
    const name = resource()
    const result = await lock.withLock(
      name,
      async (signal, lease) => {
        await sleep(2000)
        expect(signal.aborted).toBe(false)
        for (const server of servers) expect(await server.client().get(lockKey(name))).toBe(lease.token)
        return 'ok'
      },
      { ttlMs: 600 },
    )
    expect(result).toBe('ok')
  })

  it('release of a lease that is gone everywhere throws LockNotHeldError', async () => {
    const name = resource()
    const lease = await lock.acquire(name)
    for (const server of servers) await server.client().del(lockKey(name))
    await expect(lease.release()).rejects.toSatisfy(LockNotHeldError.isInstance)
  })

  it('raiseFence lifts every server to a floor ahead of their clocks, also after counters were lost', async () => {
    const name = resource()
    const fenceKey = `redlock:{${name}}:fence`
    let last = 0
    for (let run = 0; run < 3; run++) {
      const lease = await lock.acquire(name)
      last = lease.fence
      await lease.release()
    }
    // The fence sync left every server at the fence handed out.
    for (const server of servers) expect(await server.client().get(fenceKey)).toBe(String(last))
    // Two servers lost their data: their clocks still put the next fence above the last one.
    await servers[0]!.client().del(fenceKey)
    await servers[1]!.client().del(fenceKey)
    const after = await lock.acquire(name)
    await after.release()
    expect(after.fence).toBeGreaterThan(last)
    // A floor the clocks have not reached (the resource saw fences from a clock that was ahead).
    const ahead = after.fence + 3_600_000_000
    expect(await lock.raiseFence(name, ahead)).toBe(ahead)
    for (const server of servers) expect(await server.client().get(fenceKey)).toBe(String(ahead))
    const lease = await lock.acquire(name)
    expect(lease.fence).toBe(ahead + 1)
    await lease.release()
    // Never lowers a counter; the result is the highest counter of the servers that answered.
    await servers[2]!.client().set(fenceKey, String(ahead + 50))
    expect(await lock.raiseFence(name, ahead + 20)).toBe(ahead + 50)
    expect(await servers[0]!.client().get(fenceKey)).toBe(String(ahead + 20))
    expect(await servers[2]!.client().get(fenceKey)).toBe(String(ahead + 50))
    await expect(lock.raiseFence(name, -1)).rejects.toSatisfy(InvalidArgumentError.isInstance)
  })

  it('raiseFence needs a majority: one server down is fine, two is a QuorumError', async () => {
    const name = resource()
    const fenceKey = `redlock:{${name}}:fence`
    await servers[2]!.kill()
    expect(await lock.raiseFence(name, 5)).toBe(5)
    expect(await servers[0]!.client().get(fenceKey)).toBe('5')
    expect(await servers[1]!.client().get(fenceKey)).toBe('5')
    await servers[1]!.kill()
    await expect(lock.raiseFence(name, 9)).rejects.toSatisfy(QuorumError.isInstance)
  })

  it('a semaphore and a read-write lock need one server, not a Redlock set', () => {
    expect(() => lock.createSemaphore('s', { limit: 2 })).toThrow(InvalidArgumentError)
    expect(() => lock.createReadWriteLock('rw')).toThrow(InvalidArgumentError)
  })
})
