import { defineScript } from '@x/redis-core'

/**
 * express-session store: records a session in its user's index (scored by expiry on the server
 * clock) and prunes expired entries, so the index stays as small as the user's live sessions.
 *
 * KEYS[1] user index (zset of session digests)
 * ARGV[1] session digest
 * ARGV[2] ttl ms
 *
 * Returns the number of entries after the update.
 */
export const expressIndexAdd = defineScript<{
  keys: [index: string]
  args: [digest: string, ttlMs: number]
  result: number
}>({
  name: 'session:express-index-add',
  keys: 1,
  lua: `-- KEYS: index | ARGV: digest, ttl ms
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], 'GT', now + tonumber(ARGV[2]), ARGV[1])
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], top[2])
return redis.call('ZCARD', KEYS[1])
`,
})
