import { defineScript } from '@x/redis-core'
import { mintFence } from './mint-fence.js'

/**
 * Takes the lock and mints its fencing token in one atomic call, so no holder can ever exist
 * without a token, and tokens follow the order in which the lock was granted. The reply is one
 * integer (no table to build on the uncontended path).
 *
 * KEYS[1] lock key (string: the owner's random token)
 * KEYS[2] fencing counter of the resource (same hash tag; never expires)
 * ARGV[1] owner token
 * ARGV[2] ttl in ms
 *
 * Returns the fence (> 0, minted as in mint-fence.ts) when taken; when busy, −1 − the holder's pttl
 * (≤ 0; 0 means no expiry).
 */
export const lockAcquire = defineScript<{
  keys: [lock: string, fence: string]
  args: [token: string, ttlMs: number]
  result: number
}>({
  name: 'lock:acquire',
  keys: 2,
  lua: `-- KEYS: lock, fence counter | ARGV: token, ttl ms
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
${mintFence(2)}
  return fence
end
return -1 - redis.call('PTTL', KEYS[1])
`,
})
