import { defineScript } from '@x/redis-core'

/**
 * Pushes our permit's expiry out, only while it is still ours and unexpired (never revives it).
 *
 * KEYS[1] holders (sorted set: token → expiry ms)
 * ARGV[1] token
 * ARGV[2] new ttl in ms, counted from now
 *
 * Returns 1 when extended, 0 when the permit is gone.
 */
export const semaphoreExtend = defineScript<{
  keys: [holders: string]
  args: [token: string, ttlMs: number]
  result: number
}>({
  name: 'lock:semaphore-extend',
  keys: 1,
  lua: `-- KEYS: holders | ARGV: token, ttl ms
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local expiry = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not expiry then return 0 end
if tonumber(expiry) <= now then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 0
end
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', KEYS[1], math.max(1, tonumber(last[2]) - now))
return 1
`,
})
