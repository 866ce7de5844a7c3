import { defineScript } from '@x/redis-core'

/**
 * Gives a permit back if it is still ours and unexpired, and tells one waiter through pub/sub.
 *
 * KEYS[1] holders (sorted set: token → expiry ms)
 * ARGV[1] token
 * ARGV[2] release channel
 *
 * Returns 1 when released, 0 when the permit had expired or was never ours.
 */
export const semaphoreRelease = defineScript<{
  keys: [holders: string]
  args: [token: string, channel: string]
  result: number
}>({
  name: 'lock:semaphore-release',
  keys: 1,
  lua: `-- KEYS: holders | ARGV: token, channel
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local expiry = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not expiry then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('PUBLISH', ARGV[2], KEYS[1])
if tonumber(expiry) <= now then return 0 end
return 1
`,
})
