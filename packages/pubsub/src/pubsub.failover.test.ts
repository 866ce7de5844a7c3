import { type ReplicatedCluster, settledFailover, startReplicatedCluster, waitFor } from '@x/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPubSub, createStream, shardedChannel } from './index.js'

describe('pub/sub and streams across a Redis Cluster failover', () => {
  let cluster: ReplicatedCluster
  beforeAll(async () => {
    cluster = await startReplicatedCluster()
  }, 120_000)
  afterAll(async () => {
    await cluster?.stop()
  })

  it.each(['graceful', 'hard'] as const)(
    'a sharded subscription follows its slot to the new master (%s failover)',
    async (mode) => {
      const channel = shardedChannel(`room-${mode}`, 'chat')
      await using subscriber = createPubSub({ redis: cluster.client() })
      await using publisher = createPubSub({ redis: cluster.client() })
      const received = new Set<number>()
      await subscriber.ssubscribe(channel, (message) => void received.add(message as number))
      await publisher.spublish(channel, -1)
      await waitFor('the first message', () => received.has(-1))

      // Publishers keep going through the failover; some messages are lost while the slot moves
      // (pub/sub is at-most-once), the subscription itself must come back on its own.
      let sent = 0
      let failed = 0
      let stop = false
      const load = (async () => {
        while (!stop) {
          await publisher.spublish(channel, sent++).catch(() => failed++)
          await new Promise((resolve) => setTimeout(resolve, 5))
        }
      })()
      const { promotedAfterMs } = await settledFailover(cluster, channel, mode)
      const whole = performance.now()
      const firstAfter = sent
      await waitFor('a message published after the failover to arrive', () =>
        [...received].some((n) => n >= firstAfter),
      )
      const resumedAfterMs = performance.now() - whole
      stop = true
      await load

      // Once the subscriber is back on the new master, nothing more is missed.
      const base = 1_000_000
      for (let n = 0; n < 100; n++) await publisher.spublish(channel, base + n)
      await waitFor('every later message', () =>
        Array.from({ length: 100 }, (_, n) => base + n).every((n) => received.has(n)),
      )
      const lost = sent - [...received].filter((n) => n >= 0 && n < base).length
      console.info(
        `pubsub sharded ${mode} failover: promoted after ${Math.round(promotedAfterMs)} ms, ${lost} of ${sent} ` +
          `messages lost while the slot moved (${failed} publishes failed), delivery resumed ` +
          `${Math.round(resumedAfterMs)} ms after the cluster was whole`,
      )
    },
    120_000,
  )

  it.each(['graceful', 'hard'] as const)(
    'stream consumers continue across a %s failover: every message acknowledged before it is handled',
    async (mode) => {
      const name = `jobs-${mode}`
      const handled = new Map<number, number>()
      const streams = Array.from({ length: 3 }, () =>
        createStream<number>({
          redis: cluster.client(),
          name,
          claimIdleMs: 2000,
          claimIntervalMs: 500,
          blockMs: 200,
        }),
      )
      const consumers = streams.map((stream) =>
        stream.consume((n) => void handled.set(n, (handled.get(n) ?? 0) + 1)),
      )
      const publisher = createStream<number>({ redis: cluster.client(), name })
      type Phase = 'before' | 'during' | 'after'
      let phase = 'before' as Phase
      const acknowledged: Record<Phase, number[]> = { before: [], during: [], after: [] }
      let next = 0
      let failed = 0
      let stop = false
      const loads = Array.from({ length: 3 }, async () => {
        while (!stop) {
          const n = next++
          const at = phase
          try {
            await publisher.publish(n)
            acknowledged[at].push(n)
          } catch {
            failed++
          }
          await new Promise((resolve) => setTimeout(resolve, 2))
        }
      })
      try {
        await waitFor('messages before the failover', () => acknowledged.before.length >= 200)
        phase = 'during'
        const { promotedAfterMs } = await settledFailover(cluster, `stream:{${name}}`, mode)
        phase = 'after'
        await waitFor('messages after the failover', () => acknowledged.after.length >= 200)
        stop = true
        await Promise.all(loads)
        const missing = (which: Phase) => acknowledged[which].filter((n) => !handled.has(n))
        await waitFor('every message acknowledged outside the failover to be handled', () =>
          missing('before').length === 0 && missing('after').length === 0 ? true : undefined,
        )
        // A graceful failover loses nothing; a hard one can lose only what the old master had not
        // yet replicated, i.e. messages acknowledged while it was dying.
        if (mode === 'graceful') {
          await waitFor('every message to be handled', () =>
            missing('during').length === 0 ? true : undefined,
          )
        }
        const duplicates = [...handled.values()].filter((count) => count > 1).length
        console.info(
          `pubsub stream ${mode} failover: ${next - failed} published, ${acknowledged.during.length} acknowledged ` +
            `during it, of which ${missing('during').length} lost; ${duplicates} handled twice; ${failed} publishes ` +
            `failed; promoted after ${Math.round(promotedAfterMs)} ms`,
        )
        expect(missing('before')).toEqual([])
      } finally {
        stop = true
        await Promise.all(loads)
        await Promise.all(consumers.map((consumer) => consumer.stop()))
        await Promise.all([...streams, publisher].map((stream) => stream.close()))
      }
    },
    120_000,
  )
})
