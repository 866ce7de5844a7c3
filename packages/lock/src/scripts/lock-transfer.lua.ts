import { defineScript } from '@x/redis-core'
import { mintFence } from './mint-fence.js'

/**
 * Local hand-off: releases our lock and grants it to the next waiter of this process in one call,
 * with a new fencing token. The lock is never free in between, so the hand-off costs one round
 * trip instead of a release, a notification and an acquire.
 *
 * KEYS[1] lock key
 * KEYS[2] fencing counter
 * ARGV[1] current owner token
 * ARGV[2] next owner token
 * ARGV[3] next owner's ttl in ms
 *
 * Returns the new fence, or 0 when the lock was no longer ours (nothing changed).
 */
export const lockTransfer = defineScript<{
  keys: [lock: string, fence: string]
  args: [from: string, to: string, ttlMs: number]
  result: number
}>({
  name: 'lock:transfer',
  keys: 2,
  lua: `-- KEYS: lock, fence counter | ARGV: current token, next token, next ttl ms
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
${mintFence(2)}
  return fence
end
return 0
`,
})
