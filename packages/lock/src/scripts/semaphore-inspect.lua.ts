import { defineScript } from '@x/redis-core'

/**
 * Counts live holders (read-only: expired members are skipped, not pruned).
 *
 * KEYS[1] holders (sorted set: token → expiry ms)
 * KEYS[2] fencing counter
 *
 * Returns {live holders, ms until the earliest live holder expires (-2 when none), last fence}.
 */
export const semaphoreInspect = defineScript<{
  keys: [holders: string, fence: string]
  args: []
  result: [holders: number, nextExpiryMs: number, fence: number]
}>({
  name: 'lock:semaphore-inspect',
  keys: 2,
  lua: `-- KEYS: holders, fence counter | ARGV: none
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local live = redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
local first = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
local remaining = -2
if first[2] then remaining = tonumber(first[2]) - now end
return {live, remaining, tonumber(redis.call('GET', KEYS[2]) or '0')}
`,
})
