import {
  lossyFailover,
  type ReplicatedCluster,
  settledFailover,
  startReplicatedCluster,
  waitFor,
} from '@x/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLock, type Lease, type Lock, LockLostError } from './index.js'

/** A resource that accepts a write only with a fence above every fence it accepted before. */
function fencedResource() {
  let highest = 0
  const rejected: Array<{ fence: number; highest: number }> = []
  return {
    write(fence: number) {
      if (fence <= highest) {
        rejected.push({ fence, highest })
        return false
      }
      highest = fence
      return true
    },
    rejected,
  }
}

describe('locks across a Redis Cluster failover', () => {
  let cluster: ReplicatedCluster
  let locks: Lock[]
  beforeAll(async () => {
    cluster = await startReplicatedCluster()
    locks = Array.from({ length: 3 }, () =>
      createLock({ redis: cluster.client(), prefix: 'fo', ttlMs: 5000 }),
    )
  }, 120_000)
  const pick = (index: number) => () => {
    const lock = locks[index]
    if (!lock) throw new Error(`no lock ${index}`)
    return lock
  }
  const first = pick(0)
  const second = pick(1)
  afterAll(async () => {
    await Promise.all(locks?.map((lock) => lock.close()) ?? [])
    await cluster?.stop()
  })

  it.each(['graceful', 'hard'] as const)(
    'under contention, a %s failover: fences accepted before it stay below every later fence',
    async (mode) => {
      const resourceName = `job-${mode}`
      const resource = fencedResource()
      let inside = 0
      let overlaps = 0
      let writes = 0
      let errors = 0
      let phase: 'before' | 'during' | 'after' = 'before'
      let highestBefore = 0
      let lowestAfter = Number.POSITIVE_INFINITY
      let stop = false
      const workers = locks.flatMap((lock) =>
        Array.from({ length: 3 }, async () => {
          while (!stop) {
            try {
              await lock.withLock(
                resourceName,
                async (_signal, lease) => {
                  inside++
                  if (inside > 1) overlaps++
                  const at = phase // when the grant was acknowledged
                  if (resource.write(lease.fence)) writes++
                  if (at === 'before') highestBefore = Math.max(highestBefore, lease.fence)
                  if (at === 'after') lowestAfter = Math.min(lowestAfter, lease.fence)
                  await new Promise((resolve) => setTimeout(resolve, 1))
                  inside--
                },
                { waitMs: 10_000 },
              )
            } catch {
              errors++ // the master died under an acquire, an extension or a release
            }
          }
        }),
      )
      try {
        await waitFor('writes before the failover', () => writes >= 50)
        phase = 'during'
        const { promotedAfterMs } = await settledFailover(cluster, `fo:{${resourceName}}`, mode)
        phase = 'after'
        const settled = writes
        await waitFor('writes after the failover', () => writes >= settled + 50)
        stop = true
        await Promise.all(workers)
        console.info(
          `lock ${mode} failover: ${writes} fenced writes, ${resource.rejected.length} rejected (fence not above the ` +
            `highest seen), ${overlaps} overlaps, ${errors} failed calls, promoted after ${Math.round(promotedAfterMs)} ms`,
        )
        // Every acquire acknowledged before the failover had reached the replica (the cluster was quiet
        // enough to replicate it before the master died): later fences are above all of them.
        expect(lowestAfter).toBeGreaterThan(highestBefore)
        expect(resource.rejected.filter((entry) => entry.fence <= highestBefore)).toEqual([])
      } finally {
        stop = true
        await Promise.all(workers)
      }
    },
    120_000,
  )

  it('a replica that lagged loses the lock: two holders until the old one next extends or its ttl ends', async () => {
    const resource = 'lagged'
    const initial = await first().acquire(resource)
    const replicatedFence = initial.fence
    await initial.release()
    // Long enough that the first lease is still valid after any failover on a loaded machine.
    const ttlMs = 60_000
    let lostHolder: Lease | undefined
    const { promotedAfterMs } = await lossyFailover(cluster, `fo:{${resource}}`, async () => {
      // Granted by the old master, never replicated.
      lostHolder = await first().acquire(resource, { ttlMs })
    })
    if (!lostHolder) throw new Error('unreachable')
    // The promoted replica never saw the grant: another client takes the lock at once.
    const next = await second().acquire(resource, { waitMs: 0 })
    const twoHolders = lostHolder.held
    const windowMs = lostHolder.expiresAt - Date.now()
    // The old holder learns it at its next extension (the watchdog's, in withLock).
    await expect(lostHolder.extend()).rejects.toSatisfy(LockLostError.isInstance)
    console.info(
      `lock lagging replica: a second holder acquired while the first still believed it held the lock ` +
        `(${twoHolders}) for up to ${Math.round(windowMs)} ms more of its ${ttlMs} ms ttl, or until its next ` +
        `extension (replica promoted ${Math.round(promotedAfterMs)} ms after the master died); fences: replicated ${replicatedFence}, lost ${lostHolder.fence}, next ${next.fence}`,
    )
    expect(twoHolders).toBe(true)
    expect(windowMs).toBeLessThanOrEqual(ttlMs)
    // The next fence is above every fence handed out before, the lost grant's included.
    expect(next.fence).toBeGreaterThan(replicatedFence)
    expect(next.fence).toBeGreaterThan(lostHolder.fence)
    await next.release()
  }, 120_000)

  // The fencing counter is an INCR that a lagging replica can lose; the fence is floored by the
  // server's clock in µs, so the next holder's fence is still above the lost holder's.
  it('a fence is never repeated nor lower after a replica that lagged took over', async () => {
    const resource = 'repeat'
    const fenced = fencedResource()
    const replicated = await first().acquire(resource)
    fenced.write(replicated.fence)
    await replicated.release()
    let lost = 0
    const { promotedAfterMs } = await lossyFailover(cluster, `fo:{${resource}}`, async () => {
      // Granted by the old master, never replicated.
      const lease = await first().acquire(resource, { ttlMs: 1000 })
      lost = lease.fence
      fenced.write(lost)
    })
    const next = await second().acquire(resource, { waitMs: 0 })
    fenced.write(next.fence)
    await next.release()
    console.info(
      `lock fence after a lagging replica took over (promoted ${Math.round(promotedAfterMs)} ms after the master ` +
        `died): replicated ${replicated.fence}, lost ${lost}, next ${next.fence} (+${next.fence - lost} µs), ` +
        `${fenced.rejected.length} rejected`,
    )
    expect(Number.isSafeInteger(next.fence)).toBe(true)
    expect(next.fence).toBeGreaterThan(lost)
    expect(lost).toBeGreaterThan(replicated.fence)
    expect(fenced.rejected).toEqual([])
  }, 120_000)
})
