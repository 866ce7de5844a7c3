import { defineScript } from '@x/redis-core'
import { mintFence } from './mint-fence.js'

/**
 * Takes one permit when fewer than `limit` live holders exist. Holders are members of a sorted set
 * scored by their expiry on the server clock; expired ones (crashed holders) are pruned first.
 *
 * KEYS[1] holders (sorted set: token → expiry ms)
 * KEYS[2] fencing counter
 * ARGV[1] token
 * ARGV[2] ttl in ms
 * ARGV[3] limit
 *
 * Returns {1, fence} when granted, {0, ms until the earliest holder expires} when full.
 */
export const semaphoreAcquire = defineScript<{
  keys: [holders: string, fence: string]
  args: [token: string, ttlMs: number, limit: number]
  result: [granted: number, value: number]
}>({
  name: 'lock:semaphore-acquire',
  keys: 2,
  lua: `-- KEYS: holders, fence counter | ARGV: token, ttl ms, limit
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  local expiry = now + tonumber(ARGV[2])
  redis.call('ZADD', KEYS[1], expiry, ARGV[1])
  local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  redis.call('PEXPIRE', KEYS[1], math.max(1, tonumber(last[2]) - now))
${mintFence(2)}
  return {1, fence}
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, math.max(0, tonumber(first[2]) - now)}
`,
})
