import { defineScript } from '@x/redis-core'
import { mintFence } from './mint-fence.js'

/**
 * Local hand-off of a permit: our permit goes to the next waiter of this process in one call,
 * with a new fencing token, so the count of holders never changes in between.
 *
 * KEYS[1] holders (sorted set: token → expiry ms)
 * KEYS[2] fencing counter
 * ARGV[1] current token
 * ARGV[2] next token
 * ARGV[3] next holder's ttl in ms
 *
 * Returns the new fence, or 0 when our permit had expired or was gone (nothing granted).
 */
export const semaphoreTransfer = defineScript<{
  keys: [holders: string, fence: string]
  args: [from: string, to: string, ttlMs: number]
  result: number
}>({
  name: 'lock:semaphore-transfer',
  keys: 2,
  lua: `-- KEYS: holders, fence counter | ARGV: current token, next token, next ttl ms
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local expiry = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not expiry then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
if tonumber(expiry) <= now then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', KEYS[1], math.max(1, tonumber(last[2]) - now))
${mintFence(2)}
return fence
`,
})
