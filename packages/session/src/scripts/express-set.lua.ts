import { defineScript } from '@x/redis-core'

/**
 * express-session store: saves a session unless it was destroyed. express-session saves at the
 * end of every request that changed the session, so a request that was in flight during a logout
 * would otherwise write the destroyed session back; the tombstone stops it.
 *
 * KEYS[1] session (string)     prefix:{digest}:s
 * KEYS[2] tombstone            prefix:{digest}:t
 * ARGV[1] encoded session
 * ARGV[2] ttl ms
 *
 * Returns 1 when saved, 0 when the session was destroyed.
 */
export const expressSet = defineScript<{
  keys: [session: string, tombstone: string]
  args: [value: string, ttlMs: number]
  result: 0 | 1
}>({
  name: 'session:express-set',
  keys: 2,
  lua: `-- KEYS: session, tombstone | ARGV: value, ttl ms
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`,
})
