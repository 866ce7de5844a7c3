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
  ratelimit: ['limit', 'peek', 'refund', 'reset', 'block', 'acquire', 'release'],
  lock: ['acquire', 'tryAcquire', 'withLock', 'extend', 'release', 'raiseFence', 'inspect'],
  session: ['create', 'get', 'update', 'rotate', 'destroy', 'destroyById', 'listForUser', 'destroyForUser'],
  pubsub: [
    'publish',
    'spublish',
    'subscribe',
    'psubscribe',
    'ssubscribe',
    'deliver',
    'streamPublish',
    'streamDeliver',
    'reclaim',
    'deadLetter',
  ],
} as const satisfies Record<string, readonly string[]>

export type InstrumentedPackage = keyof typeof CHANNELS

export const PACKAGES = Object.keys(CHANNELS) as InstrumentedPackage[]

export function channelName(pkg: string, operation: string): string {
  return `x:${pkg}:${operation}`
}
