import {
  lossyFailover,
  type ReplicatedCluster,
  settledFailover,
  startReplicatedCluster,
  waitFor,
} from '@x/testkit'
import type { Cluster } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRateLimiter, type RateLimiter } from './index.js'

// A fixed-window counter whose window never rolls during the test: what Redis counted after the
// failover is `LIMIT - remaining`, comparable one for one with what the clients were told.
const LIMIT = 1_000_000
const YEAR_MS = 365 * 86_400_000
const LOOPS_PER_CLIENT = 4

describe('rate limits across a Redis Cluster failover', () => {
  let cluster: ReplicatedCluster
  let clients: Cluster[]
  let limiters: RateLimiter[]
  beforeAll(async () => {
    cluster = await startReplicatedCluster()
    clients = [cluster.client(), cluster.client(), cluster.client()]
    limiters = clients.map((redis) =>
      createRateLimiter({
        redis,
        prefix: 'fo',
        algorithm: 'fixed-window',
        limit: LIMIT,
        windowMs: YEAR_MS,
        // A check Redis could not answer is refused, so "admitted" means "counted by a master".
        failureMode: 'fail-closed',
      }),
    )
  }, 120_000)
  afterAll(async () => {
    await cluster?.stop()
  })
  const checker = () => {
    const [limiter] = limiters
    if (!limiter) throw new Error('no limiter')
    return limiter
  }

  /** Runs checks from every client while `during()` runs, until throughput is back after it. */
  async function underLoad<T>(key: string, during: () => Promise<T>) {
    let admitted = 0
    let refused = 0
    let stop = false
    const loops = limiters.flatMap((limiter) =>
      Array.from({ length: LOOPS_PER_CLIENT }, async () => {
        while (!stop) {
          const result = await limiter.limit(key)
          if (result.allowed) admitted++
          else if (result.reason === 'fail-closed') refused++
          else throw new Error(`unexpected answer ${result.reason}`)
        }
      }),
    )
    try {
      await waitFor('load to start', () => admitted >= 200)
      const admittedBefore = admitted
      const result = await during()
      const admittedBeforeRecovery = admitted
      await waitFor('admissions to resume after the failover', () => admitted >= admittedBeforeRecovery + 200)
      return { result, admitted, admittedBefore, refused }
    } finally {
      stop = true
      await Promise.all(loops)
    }
  }

  const counted = async (key: string) => LIMIT - (await checker().peek(key)).remaining

  it('a graceful failover loses no admission: Redis counts everything the clients admitted', async () => {
    const { admitted, refused } = await underLoad('graceful', () =>
      settledFailover(cluster, 'fo:{graceful}', 'graceful'),
    )
    // No over-admission: nothing admitted is forgotten, so a key at its limit stays at its limit.
    // Redis may count more than was admitted (a check whose reply was lost when the old master
    // demoted itself, resent by the client to the new one): that errs on the safe side.
    const total = await counted('graceful')
    expect(total).toBeGreaterThanOrEqual(admitted)
    console.info(
      `ratelimit graceful failover: ${admitted} admitted, ${total - admitted} counted twice, ${refused} refused (fail-closed)`,
    )
  }, 120_000)

  it('a hard failover under load forgets only admissions made while the master was dying', async () => {
    const { admitted, admittedBefore, refused, result } = await underLoad('crash', () =>
      settledFailover(cluster, 'fo:{crash}', 'hard'),
    )
    const lost = Math.max(0, admitted - (await counted('crash')))
    expect(lost).toBeLessThanOrEqual(admitted - admittedBefore)
    console.info(
      `ratelimit hard failover (natural lag): ${admitted} admitted, ${lost} forgotten, ${refused} refused, ` +
        `promoted after ${Math.round(result.promotedAfterMs)} ms`,
    )
  }, 120_000)

  it('a hard failover forgets at most the admissions the replica had not received', async () => {
    const key = 'hard'
    const { admitted, admittedBefore, refused, result } = await underLoad(key, () =>
      // The replica lags by exactly the admissions made inside `writes`; they are the ones at risk.
      lossyFailover(cluster, `fo:{${key}}`, async () => {
        const limiter = createRateLimiter({
          redis: cluster.client(),
          prefix: 'fo',
          algorithm: 'fixed-window',
          limit: LIMIT,
          windowMs: YEAR_MS,
          // Every one of these checks must be answered: a slow machine may take long, never refuse.
          failureMode: 'throw',
          redisTimeoutMs: 30_000,
        })
        let unreplicated = 0
        for (let index = 0; index < 50; index++) if ((await limiter.limit(key)).allowed) unreplicated++
        return unreplicated
      }),
    )
    // The loops' admissions by the old master after the cut are lost too; everything admitted
    // before the failover began had reached the replica and survives.
    // (Checks counted by Redis after their client gave up can only hide a loss, never add one.)
    const lost = admitted + result.result - (await counted(key))
    expect(result.result).toBe(50)
    expect(lost).toBeGreaterThanOrEqual(result.result)
    expect(lost).toBeLessThanOrEqual(admitted - admittedBefore + result.result)
    console.info(
      `ratelimit hard failover: ${admitted + result.result} admitted, ${lost} forgotten by Redis ` +
        `(the cut-off window), ${refused} refused (fail-closed), promoted after ${Math.round(result.promotedAfterMs)} ms`,
    )
  }, 120_000)
})
