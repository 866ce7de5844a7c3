/**
 * The tracing channels the @x packages publish, `x:<package>:<operation>`: the public contract this
 * package listens to. A channel nobody publishes on costs nothing to subscribe to, so the list may
 * name operations a given version of a package does not have.
 */
export const CHANNELS = {
  cache: [
    'get',
    'getOrSet',
    'getMany',
    'getOrSetMany',
    'has',
    'set',
    'setMany',
    'update',
    'delete',
    'deleteByPrefix',
    'invalidateTags',
  ],
  // limit/peek/refund/reset/block: createRateLimiter; acquire/release/extend/active: createConcurrencyLimiter.
  ratelimit: ['limit', 'peek', 'refund', 'reset', 'block', 'acquire', 'release', 'extend', 'active'],
  lock: ['acquire', 'tryAcquire', 'withLock', 'extend', 'release', 'raiseFence', 'inspect'],
  session: ['create', 'get', 'update', 'rotate', 'destroy', 'destroyById', 'listForUser', 'destroyForUser'],
  // deliver: one pub/sub message to one decoder group; consume: one stream entry through a handler.
  pubsub: ['publish', 'subscribe', 'deliver', 'streamPublish', 'consume'],
} as const satisfies Record<string, readonly string[]>

export type InstrumentedPackage = keyof typeof CHANNELS

export const PACKAGES = Object.keys(CHANNELS) as InstrumentedPackage[]

export { tracingChannelName as channelName } from '@x/redis-core'
