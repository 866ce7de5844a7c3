import { defineScript } from '@x/redis-core'

/**
 * Leaves the readers, if our (unexpired) entry is there. When the last reader leaves, publishes
 * the writer key so a waiting writer wakes.
 *
 * KEYS[1] readers (sorted set: token → expiry ms)
 * ARGV[1] token
 * ARGV[2] release channel
 * ARGV[3] message (the writer key: waiters of both sides wait on it)
 *
 * Returns 1 when released, 0 when our entry had expired or was gone.
 */
export const rwReleaseRead = defineScript<{
  keys: [readers: string]
  args: [token: string, channel: string, message: string]
  result: number
}>({
  name: 'lock:rw-release-read',
  keys: 1,
  lua: `-- KEYS: readers | ARGV: token, channel, message
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local expiry = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not expiry then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) == 0 then redis.call('PUBLISH', ARGV[2], ARGV[3]) end
if tonumber(expiry) <= now then return 0 end
return 1
`,
})
