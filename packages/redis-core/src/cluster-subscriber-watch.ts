// ioredis internals a Cluster's subscriber connections hide: the switch to another node and the
// sharded subscriptions a moved slot drops. Kept apart from the subscriber itself, which only
// reacts through the hooks below.
import type { EventEmitter } from 'node:events'
import type { Cluster, Redis } from 'ioredis'
import { type BackoffOptions, backoffDelay } from './backoff.js'
import type { SubscriberEvents } from './subscriber.js'

interface ClusterSubscriberInternals {
  selectSubscriber?: () => void
  getInstance?: () => Redis | null
}

interface ClusterInternals {
  subscriber?: ClusterSubscriberInternals
  /** Relays the sharded subscribers' events; `moved` follows an unsolicited SUNSUBSCRIBE or a MOVED to SSUBSCRIBE. */
  subscriberGroupEmitter?: EventEmitter
  refreshSlotsCache?: (callback?: (error?: Error) => void) => void
}

/** ioredis replacing sharded subscribers itself (it saw the new slot owners): `subscribersReady` restores ours. */
interface IoredisReplacements {
  /** Between `-subscriber` and `subscribersReady`. */
  pending: boolean
  /** Replacements completed. */
  done: number
}

export interface ShardFailure {
  error: unknown
  key: string
}

export interface ClusterSubscriberHooks {
  /** The whole client came back (a node switch, or ioredis replaced sharded subscribers): restore everything. */
  onReconnected: () => void
  /** SSUBSCRIBEs every sharded channel again; resolves with what failed. */
  restoreShards: () => Promise<ShardFailure[]>
  /** Sharded subscriptions are back after a slot moved: messages were missed meanwhile. */
  onShardsRestored: () => void
  report: (payload: SubscriberEvents['error']) => void
  /** Closed, or no sharded channel left to follow. */
  stopped: () => boolean
}

/**
 * After a slot moved, attempt n (0-based) waits backoffDelay(n) first: the first about 100 ms
 * later (time for ioredis's own refresh), doubling up to 5 s while the shard stays unreachable.
 */
const FOLLOW_BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 5000, jitter: 'equal' }
/** Failed attempts before they are reported: a failover normally settles within the first ones. */
const FOLLOW_QUIET_ATTEMPTS = 3

/**
 * Calls `onReconnected` when a Cluster's subscriber connections came back after a loss. ioredis
 * replaces the Cluster's pub/sub connection on its own when it drops (it picks another node and
 * resubscribes) and emits nothing public about it, so nobody could learn that messages were
 * missed. This wraps that internal switch on our own duplicate, and uses the public `-subscriber`
 * / `subscribersReady` events of the sharded subscriber group. Returns false when the internals
 * are not there (another ioredis version): the caller then listens to 'ready'.
 */
export function watchClusterSubscriber(cluster: Cluster, hooks: ClusterSubscriberHooks): boolean {
  const { onReconnected } = hooks
  const internals = (cluster as unknown as ClusterInternals).subscriber
  const select = internals?.selectSubscriber
  const getInstance = internals?.getInstance
  if (internals === undefined || typeof select !== 'function' || typeof getInstance !== 'function')
    return false
  let selections = 0
  internals.selectSubscriber = () => {
    select.call(internals)
    // The first selection is the initial connect, not a reconnect.
    if (++selections === 1) return
    getInstance.call(internals)?.once('ready', onReconnected)
  }
  const ioredis: IoredisReplacements = { pending: false, done: 0 }
  cluster.on('-subscriber', () => {
    ioredis.pending = true
  })
  cluster.on('subscribersReady', () => {
    if (!ioredis.pending) return
    ioredis.pending = false
    ioredis.done++
    onReconnected()
  })
  followMovedSlots(cluster, hooks, ioredis)
  return true
}

/**
 * Keeps sharded subscriptions alive when a slot moves while its old master stays up (a graceful
 * failover, a resharding). The old master drops the subscription with an unsolicited SUNSUBSCRIBE
 * and stays healthy; ioredis then refreshes the slots once, and when the node it asks has not yet
 * heard of the new owner it sees no change and never tries again: the subscription is silently gone
 * (the subscriber Cluster has no `slotsRefreshInterval` by default). So after such a signal this
 * refreshes the slots and SSUBSCRIBEs again, with backoff, until every sharded channel is
 * acknowledged (by the new master, or by the old one now replicating it: Redis lets a replica serve
 * SSUBSCRIBE for its master's slots and forwards the messages to it), then emits `reconnected`.
 *
 * Cost: nothing while no slot moves (no timer, no polling). After a move, each attempt is one
 * CLUSTER SLOTS and one SSUBSCRIBE per sharded channel; usually the first attempt, ~100 ms after
 * the move, succeeds. When ioredis itself replaces the subscribers, this stops and the
 * `subscribersReady` path restores the subscriptions instead (one `reconnected`, not two).
 */
function followMovedSlots(
  cluster: Cluster,
  hooks: ClusterSubscriberHooks,
  ioredis: IoredisReplacements,
): void {
  const internals = cluster as unknown as ClusterInternals
  const emitter = internals.subscriberGroupEmitter
  if (emitter === undefined || typeof internals.refreshSlotsCache !== 'function') return
  const refresh = () =>
    new Promise<void>((resolve) => internals.refreshSlotsCache!.call(cluster, () => resolve()))
  let following = false
  let movedAgain = false
  const follow = async () => {
    following = true
    const done = ioredis.done
    const ioredisTookOver = () => ioredis.pending || ioredis.done !== done
    try {
      for (let attempt = 0; !hooks.stopped(); attempt++) {
        await sleep(backoffDelay(attempt, FOLLOW_BACKOFF))
        if (hooks.stopped() || ioredisTookOver()) return
        await refresh()
        if (hooks.stopped() || ioredisTookOver()) return
        const failures = await hooks.restoreShards()
        if (hooks.stopped() || ioredisTookOver()) return
        if (failures.length === 0) return hooks.onShardsRestored()
        if (attempt + 1 >= FOLLOW_QUIET_ATTEMPTS)
          for (const { error, key } of failures) hooks.report({ operation: 'resubscribe', error, key })
      }
    } finally {
      following = false
      if (movedAgain) {
        movedAgain = false
        void follow()
      }
    }
  }
  emitter.on('moved', () => {
    if (following) movedAgain = true
    else void follow()
  })
}

function sleep(ms: number): Promise<void> {
  // Unref'd: a pending retry never keeps the process alive on its own.
  return new Promise((resolve) => setTimeout(resolve, ms).unref())
}
