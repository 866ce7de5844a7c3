import { defineScript } from '@x/redis-core'
import { mintFence } from './mint-fence.js'

/**
 * Write side of a read-write lock: takes the writer key only when no writer holds it and no live
 * reader is left (expired readers are pruned first, on the server clock).
 *
 * KEYS[1] writer key
 * KEYS[2] readers (sorted set: token → expiry ms)
 * KEYS[3] fencing counter
 * ARGV[1] token
 * ARGV[2] ttl in ms
 *
 * Returns {1, fence} when taken, {0, ms until the blocking writer or earliest reader expires}.
 */
export const rwAcquireWrite = defineScript<{
  keys: [writer: string, readers: string, fence: string]
  args: [token: string, ttlMs: number]
  result: [taken: number, value: number]
}>({
  name: 'lock:rw-acquire-write',
  keys: 3,
  lua: `-- KEYS: writer, readers, fence counter | ARGV: token, ttl ms
local writer = redis.call('PTTL', KEYS[1])
if writer ~= -2 then return {0, writer} end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if first[2] then return {0, math.max(0, tonumber(first[2]) - now)} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
${mintFence(3)}
return {1, fence}
`,
})
