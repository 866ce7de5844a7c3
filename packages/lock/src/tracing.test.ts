import { tracingChannel } from 'node:diagnostics_channel'
import { createRedis } from '@x/redis-core'
import { targets, uniqueName, useRedis } from '@x/testkit/vitest'
import { afterAll, describe, expect, it } from 'vitest'
import { LockTimeoutError } from './errors.js'
import { createLock } from './lock.js'
import type { LockTraceContext } from './tracing.js'

/** Redis calls wait long here: the test machine may be loaded, and speed is not what these tests check. */
const PATIENT_MS = 10_000

type Seen = {
  channel: string
  event: 'start' | 'asyncEnd' | 'error'
  context: LockTraceContext & { error?: unknown }
}

/** Subscribes to x:lock:<operation> for the given operations; returns what was published. */
function record(operations: string[]) {
  const seen: Seen[] = []
  const unsubscribes = operations.map((operation) => {
    const channel = `x:lock:${operation}`
    const handlers = {
      start: (context: object) =>
        seen.push({ channel, event: 'start', context: { ...(context as LockTraceContext) } }),
      end: () => {},
      asyncStart: () => {},
      asyncEnd: (context: object) =>
        seen.push({ channel, event: 'asyncEnd', context: { ...(context as LockTraceContext) } }),
      error: (context: object) =>
        seen.push({ channel, event: 'error', context: { ...(context as LockTraceContext) } }),
    }
    const traced = tracingChannel(channel)
    traced.subscribe(handlers)
    return () => {
      traced.unsubscribe(handlers)
    }
  })
  return {
    seen,
    stop: () => {
      for (const unsubscribe of unsubscribes) unsubscribe()
    },
  }
}

describe.each(targets())('tracing channels on $name', (target) => {
  const redis = useRedis(target, createRedis)
  const lock = createLock({ redis, prefix: target.prefix, redisTimeoutMs: PATIENT_MS })
  afterAll(() => lock.close())

  it('publishes acquire and release with the resource, outcome, fence and round trips, never the token', async () => {
    const resource = uniqueName('traced')
    const recorder = record(['acquire', 'release'])
    let token = ''
    try {
      const lease = await lock.acquire(resource, { ttlMs: 5000 })
      token = lease.token
      await lease.release()
    } finally {
      recorder.stop()
    }
    expect(recorder.seen.map((entry) => `${entry.channel} ${entry.event}`)).toEqual([
      'x:lock:acquire start',
      'x:lock:acquire asyncEnd',
      'x:lock:release start',
      'x:lock:release asyncEnd',
    ])
    const [, acquired, , released] = recorder.seen
    expect(acquired!.context).toMatchObject({
      kind: 'lock',
      resource,
      outcome: 'acquired',
      waitedMs: 0,
      fence: expect.any(Number),
      roundTrips: 1,
    })
    expect(released!.context).toMatchObject({
      kind: 'lock',
      resource,
      outcome: 'released',
      roundTrips: 1,
      heldMs: expect.any(Number),
    })
    expect(released!.context.heldMs).toBeGreaterThanOrEqual(0)
    expect(JSON.stringify(recorder.seen)).not.toContain(token)
  })

  it('publishes a timed-out wait on the error event with outcome timeout and the time waited', async () => {
    const resource = uniqueName('traced')
    const holder = await lock.acquire(resource, { ttlMs: 30_000 })
    const recorder = record(['acquire', 'tryAcquire'])
    try {
      expect(await lock.tryAcquire(resource)).toBeNull()
      await expect(lock.acquire(resource, { waitMs: 50 })).rejects.toSatisfy(LockTimeoutError.isInstance)
    } finally {
      recorder.stop()
      await holder.release()
    }
    const busy = recorder.seen.find(
      (entry) => entry.channel === 'x:lock:tryAcquire' && entry.event === 'asyncEnd',
    )
    expect(busy?.context).toMatchObject({ resource, outcome: 'busy', roundTrips: 1 })
    const failed = recorder.seen.find(
      (entry) => entry.channel === 'x:lock:acquire' && entry.event === 'error',
    )
    expect(failed?.context).toMatchObject({ resource, outcome: 'timeout', waitedMs: expect.any(Number) })
    expect(failed!.context.waitedMs).toBeGreaterThanOrEqual(50)
    expect(failed!.context.roundTrips).toBeGreaterThanOrEqual(1)
    expect(LockTimeoutError.isInstance(failed!.context.error)).toBe(true)
    expect(JSON.stringify(recorder.seen)).not.toContain(holder.token)
  })

  it('withLock ends with outcome released, and raiseFence with fenced', async () => {
    const resource = uniqueName('traced')
    const recorder = record(['withLock', 'raiseFence', 'inspect'])
    try {
      expect(await lock.withLock(resource, () => 'done')).toBe('done')
      // Above the counter the lease left (the server clock in µs), so the raise shows.
      await lock.raiseFence(resource, 9_000_000_000_000_000)
      await lock.inspect(resource)
    } finally {
      recorder.stop()
    }
    const ends = recorder.seen.filter((entry) => entry.event === 'asyncEnd')
    expect(ends.map((entry) => [entry.channel, entry.context.outcome])).toEqual([
      ['x:lock:withLock', 'released'],
      ['x:lock:raiseFence', 'fenced'],
      ['x:lock:inspect', 'unlocked'],
    ])
    expect(ends[1]!.context.fence).toBe(9_000_000_000_000_000)
  })

  it('semaphores and read-write locks publish on the same channels with their kind', async () => {
    const name = uniqueName('traced')
    const recorder = record(['acquire', 'inspect'])
    try {
      const semaphore = lock.createSemaphore(name, { limit: 2 })
      const permit = await semaphore.acquire()
      await semaphore.inspect()
      await permit.release()
      const readWrite = lock.createReadWriteLock(`${name}-rw`)
      const reader = await readWrite.read.acquire()
      await readWrite.inspect()
      await reader.release()
    } finally {
      recorder.stop()
    }
    const ends = recorder.seen.filter((entry) => entry.event === 'asyncEnd')
    expect(ends.map((entry) => [entry.channel, entry.context.kind, entry.context.outcome])).toEqual([
      ['x:lock:acquire', 'semaphore', 'acquired'],
      ['x:lock:inspect', 'semaphore', 'locked'],
      ['x:lock:acquire', 'read', 'acquired'],
      ['x:lock:inspect', 'read-write', 'locked'],
    ])
  })
})
