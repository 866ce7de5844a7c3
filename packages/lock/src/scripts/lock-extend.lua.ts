import { defineScript } from '@x/redis-core'

/**
 * Sets a new ttl only while the lock still holds our token: an expired (or stolen) lock is never
 * revived, because PEXPIRE on a missing key, or a foreign token, changes nothing.
 *
 * KEYS[1] lock key
 * ARGV[1] owner token
 * ARGV[2] new ttl in ms, counted from now
 *
 * Returns 1 when extended, 0 when the lock is no longer ours.
 */
export const lockExtend = defineScript<{
  keys: [lock: string]
  args: [token: string, ttlMs: number]
  result: number
}>({
  name: 'lock:extend',
  keys: 1,
  lua: `-- KEYS: lock | ARGV: token, ttl ms
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`,
})
