import {
  lossyFailover,
  type ReplicatedCluster,
  settledFailover,
  startReplicatedCluster,
  waitFor,
} from '@x/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSessionStore, type SessionStore } from './index.js'

const USER = 'ada'
const LOOPS_PER_STORE = 3

describe('sessions across a Redis Cluster failover', () => {
  let cluster: ReplicatedCluster
  let stores: SessionStore<{ n: number }>[]
  beforeAll(async () => {
    cluster = await startReplicatedCluster()
    stores = [cluster.client(), cluster.client(), cluster.client()].map((redis) =>
      // touchIntervalMs 0: every read slides the idle expiry, so every read is a write at risk.
      createSessionStore<{ n: number }>({ redis, prefix: 'fo', idleTimeoutMs: 600_000, touchIntervalMs: 0 }),
    )
  }, 120_000)
  afterAll(async () => {
    await cluster?.stop()
  })

  /** The key of the user's slot: every session of USER lives there (the token's tag). */
  const userKey = async () => {
    const { token } = await stores[0]!.create(USER, { n: 0 })
    await stores[0]!.destroy(token)
    return `fo:{${token.split('.')[0]}}:u:${USER}`
  }

  it('a session destroyed before a hard failover stays destroyed (logins and logouts under load)', async () => {
    const key = await userKey()
    let phase = 'before' as 'before' | 'during' | 'after'
    const destroyed: Array<{ token: string; phase: typeof phase }> = []
    let errors = 0
    let stop = false
    const loops = stores.flatMap((store) =>
      Array.from({ length: LOOPS_PER_STORE }, async () => {
        while (!stop) {
          const at = phase
          try {
            const { token } = await store.create(USER, { n: 1 })
            await store.get(token)
            if (await store.destroy(token)) destroyed.push({ token, phase: at })
          } catch {
            errors++ // a timeout or a connection error while the master is down
          }
        }
      }),
    )
    try {
      await waitFor('logouts before the failover', () => destroyed.length >= 50)
      phase = 'during'
      const { promotedAfterMs } = await settledFailover(cluster, key, 'hard')
      phase = 'after'
      const settled = destroyed.length
      await waitFor('logouts after the failover', () => destroyed.length >= settled + 50)
      stop = true
      await Promise.all(loops)
      // Read back in small batches with a generous deadline: this checks data, not speed.
      const checker = createSessionStore<{ n: number }>({
        redis: cluster.client(),
        prefix: 'fo',
        redisTimeoutMs: 10_000,
      })
      const readBack: Array<(typeof destroyed)[number] & { session: unknown }> = []
      for (let index = 0; index < destroyed.length; index += 50) {
        const batch = destroyed.slice(index, index + 50)
        readBack.push(
          ...(await Promise.all(
            batch.map(async (entry) => ({ ...entry, session: await checker.get(entry.token) })),
          )),
        )
      }
      const back = (which: string) =>
        readBack.filter((entry) => entry.phase === which && entry.session !== null).length
      // Every logout acknowledged before the master died was on the replica too: none comes back.
      expect(back('before')).toBe(0)
      expect(back('after')).toBe(0)
      console.info(
        `session hard failover: ${destroyed.length} logouts, ${back('during')} of those acknowledged while ` +
          `the master was dying came back, ${errors} calls failed, promoted after ${Math.round(promotedAfterMs)} ms`,
      )
    } finally {
      stop = true
      await Promise.all(loops)
    }
  }, 120_000)

  it('a replica that lagged: only the logouts of the lag window come back; lost touches extend nothing', async () => {
    const key = await userKey()
    const store = stores[0]!
    const early = await Promise.all(Array.from({ length: 5 }, (_, n) => store.create(USER, { n })))
    await Promise.all(early.map(({ token }) => store.destroy(token)))
    const late = await Promise.all(Array.from({ length: 5 }, (_, n) => store.create(USER, { n })))
    const touched = await store.create(USER, { n: 0 })
    const beforeCut = (await store.get(touched.token))?.idleExpiresAt ?? 0

    const { result: seen } = await lossyFailover(cluster, key, async () => {
      // Acknowledged by the old master, never replicated: the lag window.
      for (const { token } of late) expect(await store.destroy(token)).toBe(true)
      let latest = 0
      for (let read = 0; read < 5; read++) {
        await new Promise((resolve) => setTimeout(resolve, 5))
        latest = Math.max(latest, (await store.get(touched.token))?.idleExpiresAt ?? 0)
      }
      return latest
    })
    expect(seen).toBeGreaterThan(beforeCut)

    // Read the touched session's expiry first, from the device list (a read that slides nothing).
    const info = (await store.listForUser(USER)).find((entry) => entry.id === touched.session.id)
    const idleExpiresAt = info?.idleExpiresAt ?? Number.NaN
    // A lost touch only shortens: the idle expiry is between its value before the window and the
    // latest value a client was shown, never later.
    expect(idleExpiresAt).toBeGreaterThanOrEqual(beforeCut)
    expect(idleExpiresAt).toBeLessThanOrEqual(seen)

    const early$ = await Promise.all(early.map(({ token }) => store.get(token)))
    const late$ = await Promise.all(late.map(({ token }) => store.get(token)))
    // A logout acknowledged before the lag window never comes back.
    expect(early$.filter((session) => session !== null)).toEqual([])
    // The logouts inside the window are lost with the old master: those sessions are back.
    const resurrected = late$.filter((session) => session !== null).length
    expect(resurrected).toBeLessThanOrEqual(late.length)
    console.info(
      `session lagging replica: ${resurrected} of ${late.length} logouts in the lag window came back, ` +
        `idle expiry after the failover ${idleExpiresAt - beforeCut} ms past its value before the window (latest shown: ${seen - beforeCut} ms)`,
    )
  }, 120_000)
})
