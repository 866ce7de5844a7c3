import { unlinkByPattern } from '@x/redis-core'
import { invalidated, report } from './events.js'
import { createInvalidationBus, encodeInvalidation, type InvalidationMessage } from './invalidation-bus.js'
import { checkKey, checkTags, escapeGlob } from './keys.js'
import type { CacheState, Scope } from './state.js'
import { bumpTags } from './tags.js'

/** Subscribes this instance's L1 to the other instances' invalidations. */
export function connectBus(s: CacheState): void {
  s.bus = createInvalidationBus({
    redis: s.redis,
    channel: s.channel,
    origin: s.origin,
    redisTimeoutMs: s.caller.timeoutMs,
    onMessage: (message) => applyRemoteInvalidation(s, message),
    onReconnect: () => {
      // Messages may have been missed while disconnected: nothing in L1 can be trusted.
      s.invalidationSeq++
      s.l1?.clear()
      s.emitter.emit('invalidation', { prefix: '', source: 'bus' })
    },
    onError: (error, operation) => report(s, operation, error),
  })
}

function applyRemoteInvalidation(s: CacheState, message: InvalidationMessage): void {
  s.invalidationSeq++
  const l1 = s.l1
  if (l1) {
    for (const key of message.keys ?? []) l1.delete(key)
    if (message.tags) l1.deleteByTags(message.tags)
    for (const prefix of message.prefixes ?? []) l1.deleteByPrefix(prefix)
  }
  s.stats.invalidations++
  if (s.emitter.has('invalidation')) {
    s.emitter.emit('invalidation', {
      ...(message.keys ? { keys: message.keys } : {}),
      ...(message.tags ? { tags: message.tags } : {}),
      ...(message.prefixes?.[0] !== undefined ? { prefix: message.prefixes[0] } : {}),
      source: 'bus',
    })
  }
}

/** Tells the other instances what to drop from L1. Never rejects: the write it follows succeeded. */
export async function publish(s: CacheState, message: InvalidationMessage): Promise<void> {
  if (!s.publish) return
  try {
    await s.caller.call('publish', s.channel, encodeInvalidation(s.origin, message))
  } catch (error) {
    // Other instances keep their L1 entry until its (bounded) L1 ttl; say so loudly.
    report(s, 'publish', error)
  }
}

export async function invalidateTags(s: CacheState, tags: readonly string[]): Promise<void> {
  const list = checkTags(tags)
  if (!list) return
  s.invalidationSeq++
  s.l1?.deleteByTags(list)
  await bumpTags(s, list)
  invalidated(s, { tags: list })
  await publish(s, { tags: list })
}

export async function deleteByPrefix(scope: Scope, prefix: string): Promise<number> {
  const s = scope.state
  const start = scope.valuePrefix + checkKey(prefix, 'prefix')
  s.invalidationSeq++
  s.l1?.deleteByPrefix(start)
  const removed = await unlinkByPattern(s.redis, {
    match: `${escapeGlob(start)}*`,
    timeoutMs: s.caller.timeoutMs,
  })
  // Again after the scan: reads that raced it may have put entries back into L1.
  s.l1?.deleteByPrefix(start)
  invalidated(s, { prefix })
  await publish(s, { prefixes: [start] })
  return removed
}
