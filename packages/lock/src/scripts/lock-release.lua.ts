import { defineScript } from '@x/redis-core'

/**
 * Deletes the lock only if it still holds our token, then tells waiters through pub/sub. The
 * message is the lock key, so one subscriber per process serves every resource.
 *
 * KEYS[1] lock key
 * ARGV[1] owner token
 * ARGV[2] release channel
 *
 * Returns 1 when released, 0 when the lock was not ours (expired, or taken by someone else).
 */
export const lockRelease = defineScript<number>({
  name: 'lock-release',
  keys: 1,
  lua: `-- KEYS: lock | ARGV: token, channel
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], KEYS[1])
  return 1
end
return 0
`,
})
