import { defineScript } from '@x/redis-core'

/**
 * express-session store: destroys a session and leaves a tombstone so late saves cannot revive it.
 *
 * KEYS[1] session   KEYS[2] tombstone
 * ARGV[1] tombstone ttl ms
 *
 * Returns 1 when a session existed.
 */
export const expressDestroy = defineScript<{
  keys: [session: string, tombstone: string]
  args: [tombstoneTtlMs: number]
  result: 0 | 1
}>({
  name: 'session:express-destroy',
  keys: 2,
  lua: `-- KEYS: session, tombstone | ARGV: tombstone ttl ms
local existed = redis.call('UNLINK', KEYS[1])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
return existed
`,
})
