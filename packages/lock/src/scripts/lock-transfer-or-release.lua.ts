import { defineScript } from '@x/redis-core'
import { mintFence } from './mint-fence.js'

/**
 * The hand-off once `handoffLimit` consecutive hand-offs are used up: when a waiter announced
 * itself (the waiters flag of lock-acquire-waiting: another process, or a local waiter that polled),
 * releases and publishes like lock-release, so that everyone competes; when nobody did, nobody else
 * is kept out, and the lock goes to the next local waiter like lock-transfer, in one call.
 *
 * KEYS[1] lock key
 * KEYS[2] fencing counter
 * KEYS[3] waiters flag (same hash tag)
 * ARGV[1] current owner token
 * ARGV[2] next owner token
 * ARGV[3] next owner's ttl in ms
 * ARGV[4] release channel
 *
 * Returns the new fence when handed over; −1 when released and published; 0 when the lock was no
 * longer ours (nothing changed).
 */
export const lockTransferOrRelease = defineScript<{
  keys: [lock: string, fence: string, waiters: string]
  args: [from: string, to: string, ttlMs: number, channel: string]
  result: number
}>({
  name: 'lock:transfer-or-release',
  keys: 3,
  lua: `-- KEYS: lock, fence counter, waiters flag | ARGV: current token, next token, next ttl ms, channel
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call('DEL', KEYS[3]) == 1 then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[4], KEYS[1])
  return -1
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
${mintFence(2)}
return fence
`,
})
