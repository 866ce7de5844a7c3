import { type ReplicatedCluster, settledFailover, startReplicatedCluster, waitFor } from '@x/testkit'
import type { Cluster } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeRedis } from './close.js'
import { createRedis } from './create-redis.js'
import { createSubscriber } from './subscriber.js'

describe('createSubscriber across a graceful failover', () => {
  let cluster: ReplicatedCluster
  beforeAll(async () => {
    cluster = await startReplicatedCluster()
  }, 120_000)
  afterAll(async () => {
    await cluster?.stop()
  })

  it('a sharded subscription comes back even when the slot refresh after the old master let go still sees it as the owner', async () => {
    const channel = '{follow}:events'
    const redis = createRedis({ clusterNodes: cluster.startupNodes })
    const publisher = cluster.client()
    try {
      await using subscriber = createSubscriber(redis, { sharded: true })
      let reconnects = 0
      subscriber.on('reconnected', () => void reconnects++)
      subscriber.on('error', () => {})
      const received = new Set<string>()
      await subscriber.ssubscribe(channel, (message) => void received.add(message))
      await waitFor('a message before the failover', async () => {
        await publisher.spublish(channel, 'before')
        return received.has('before')
      })

      // The stale view made certain: while `stale` is set, the subscriber's slot refreshes answer at
      // once without asking any node, as when the node ioredis asks has not heard of the new master.
      const connection = subscriber.connection as Cluster & {
        refreshSlotsCache: (callback?: (error?: Error) => void) => void
      }
      const refresh = connection.refreshSlotsCache
      let stale = true
      let staleRefreshes = 0
      connection.refreshSlotsCache = function (this: Cluster, callback) {
        if (!stale) return refresh.call(this, callback)
        staleRefreshes++
        callback?.()
      }

      await settledFailover(cluster, channel, 'graceful')
      // The old master drops the subscription (an unsolicited SUNSUBSCRIBE) and ioredis refreshes once.
      await waitFor('the refresh that follows the unsubscribe', () => staleRefreshes > 0)
      stale = false

      await waitFor('a message published after the failover', async () => {
        await publisher.spublish(channel, 'after')
        return received.has('after')
      })
      expect(reconnects).toBeGreaterThan(0)
    } finally {
      await closeRedis(redis)
    }
  }, 120_000)
})
