import { defineScript } from '@x/redis-core'

/**
 * Releases a distributed single-flight lease only if we still hold it.
 * KEYS[1] lease key
 * ARGV[1] our token
 * Returns 1 released | 0 not ours (expired and taken by someone else).
 */
export const releaseLeaseScript = defineScript<{
  keys: [lease: string]
  args: [token: string]
  result: number
}>({
  name: 'cache:releaseLease',
  keys: 1,
  lua: `-- KEYS[1] lease; ARGV[1] token
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`,
})
