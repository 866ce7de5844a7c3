import { defineScript } from '@x/redis-core'
import { mintFence } from './mint-fence.js'

/**
 * Read side of a read-write lock: joins the readers unless a writer holds the lock. Readers are a
 * sorted set scored by expiry on the server clock, pruned here, so a crashed reader drops out
 * after its ttl.
 *
 * KEYS[1] writer key (string: the writer's token)
 * KEYS[2] readers (sorted set: token → expiry ms)
 * KEYS[3] fencing counter
 * ARGV[1] token
 * ARGV[2] ttl in ms
 *
 * Returns {1, fence} when joined, {0, pttl of the writer} when a writer holds the lock.
 */
export const rwAcquireRead = defineScript<{
  keys: [writer: string, readers: string, fence: string]
  args: [token: string, ttlMs: number]
  result: [joined: number, value: number]
}>({
  name: 'lock:rw-acquire-read',
  keys: 3,
  lua: `-- KEYS: writer, readers, fence counter | ARGV: token, ttl ms
local writer = redis.call('PTTL', KEYS[1])
if writer ~= -2 then return {0, writer} end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', KEYS[2], math.max(1, tonumber(last[2]) - now))
${mintFence(3)}
return {1, fence}
`,
})
