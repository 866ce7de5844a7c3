import { defineScript } from '@x/redis-core'
import { mintFence } from './mint-fence.js'

/**
 * The acquire of a caller that will wait: takes the lock like `lock-acquire`, and when busy also
 * announces the wait, so the holder's release publishes (a release with nobody announced publishes
 * nothing). The announcement is a flag key that expires with the current holder's lease, so a
 * waiter that crashed keeps it at most that long; a waiter that is still there renews it with its
 * next attempt, which it makes at the latest when that lease would expire.
 *
 * KEYS[1] lock key
 * KEYS[2] fencing counter
 * KEYS[3] waiters flag (same hash tag; deleted by the release that publishes)
 * ARGV[1] owner token
 * ARGV[2] ttl in ms (also the flag's life when the holder has no expiry)
 *
 * Returns the fence (> 0, minted as in mint-fence.ts) when taken; when busy, −1 − the holder's pttl
 * (≤ 0; 0 means no expiry).
 */
export const lockAcquireWaiting = defineScript<{
  keys: [lock: string, fence: string, waiters: string]
  args: [token: string, ttlMs: number]
  result: number
}>({
  name: 'lock:acquire-waiting',
  keys: 3,
  lua: `-- KEYS: lock, fence counter, waiters flag | ARGV: token, ttl ms
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
${mintFence(2)}
  return fence
end
local pttl = redis.call('PTTL', KEYS[1])
if pttl > 0 then
  redis.call('SET', KEYS[3], 1, 'PX', pttl)
else
  redis.call('SET', KEYS[3], 1, 'PX', ARGV[2])
end
return -1 - pttl
`,
})
