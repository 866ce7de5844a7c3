import type { Cluster, Redis } from 'ioredis'

interface ClusterSubscriberInternals {
  selectSubscriber?: () => void
  getInstance?: () => Redis | null
}

/**
 * Calls `onReconnected` when a Cluster's subscriber connections came back after a loss.
 *
 * ioredis replaces the Cluster's pub/sub connection on its own when it drops (it picks a node and
 * resubscribes) and emits nothing public about it, so the app could not learn that messages were
 * missed. This wraps that (internal) switch on our own duplicate, and uses the public
 * `-subscriber` / `subscribersReady` events of the sharded subscriber group. Returns false when the
 * internals are not there (another ioredis version); the caller then falls back to 'ready'.
 */
export function watchClusterSubscribers(cluster: Cluster, onReconnected: () => void): boolean {
  const internals = (cluster as unknown as { subscriber?: ClusterSubscriberInternals }).subscriber
  const select = internals?.selectSubscriber
  const getInstance = internals?.getInstance
  if (internals === undefined || typeof select !== 'function' || typeof getInstance !== 'function')
    return false

  let selections = 0
  internals.selectSubscriber = function (this: ClusterSubscriberInternals) {
    select.call(internals)
    selections++
    // The first selection is the initial connect, not a reconnect.
    if (selections === 1) return
    const instance = getInstance.call(internals)
    instance?.once('ready', onReconnected)
  }

  let shardLost = false
  cluster.on('-subscriber', () => {
    shardLost = true
  })
  cluster.on('subscribersReady', () => {
    if (!shardLost) return
    shardLost = false
    onReconnected()
  })
  return true
}
