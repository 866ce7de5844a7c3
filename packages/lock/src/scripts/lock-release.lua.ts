import { defineScript } from '@x/redis-core'

/**
 * Deletes the lock only if it still holds our token. Publishes only when a waiter announced itself
 * (the waiters flag, deleted in the same DEL): an uncontended release is GET + DEL. The message is
 * the lock key, so one subscriber per process serves every resource.
 *
 * KEYS[1] lock key
 * KEYS[2] waiters flag (see lock-acquire-waiting)
 * ARGV[1] owner token
 * ARGV[2] release channel
 *
 * Returns 0 when the lock was not ours (expired, or taken by someone else), 1 when released with
 * nobody announced (nothing published), 2 when released and published.
 */
export const lockRelease = defineScript<{
  keys: [lock: string, waiters: string]
  args: [token: string, channel: string]
  result: number
}>({
  name: 'lock:release',
  keys: 2,
  lua: `-- KEYS: lock, waiters flag | ARGV: token, channel
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call('DEL', KEYS[1], KEYS[2]) == 1 then return 1 end
redis.call('PUBLISH', ARGV[2], KEYS[1])
return 2
`,
})
