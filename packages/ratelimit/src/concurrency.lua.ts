import { defineScript } from '@x/redis-core'

/** Reply: `[acquired (1/0), active leases, expiresAt ms or retryAfterMs, now µs]`, or `[3, now µs]` past the deadline. */
export type AcquireReply = [number, number, number, number]

/** Leases live in one sorted set per key: member = lease id, score = expiry in server microseconds. */
export const acquireScript = defineScript<{
  keys: [leases: string]
  args: [id: string, limit: number, leaseUs: number, deadlineUs: number]
  result: AcquireReply
}>({
  name: 'ratelimit:acquire',
  keys: 1,
  lua: `-- @x/ratelimit concurrency acquire
-- KEYS[1] sorted set of leases (member = lease id, score = expiry in server microseconds)
-- ARGV[1] lease id, ARGV[2] limit, ARGV[3] lease length (microseconds),
-- ARGV[4] deadline in server microseconds, 0 = none: a late execution takes no lease
local t = redis.call('TIME')
local now = t[1] * 1000000 + t[2]
local deadline = tonumber(ARGV[4])
if deadline > 0 and now > deadline then return {3, now} end
local key = KEYS[1]
local fmt = string.format
redis.call('ZREMRANGEBYSCORE', key, '-inf', fmt('%.0f', now))
local active = redis.call('ZCARD', key)
if active >= tonumber(ARGV[2]) then
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return {0, active, math.ceil((tonumber(oldest[2]) - now) / 1000), now}
end
local expires = now + tonumber(ARGV[3])
redis.call('ZADD', key, fmt('%.0f', expires), ARGV[1])
local last = tonumber(redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')[2])
redis.call('PEXPIREAT', key, fmt('%.0f', math.ceil(last / 1000)))
return {1, active + 1, math.floor(expires / 1000), now}
`,
})

/** Reply: the new expiry in ms, or 0 when the lease had already expired or been released. */
export const extendScript = defineScript<{
  keys: [leases: string]
  args: [id: string, leaseUs: number]
  result: number
}>({
  name: 'ratelimit:extend',
  keys: 1,
  lua: `-- @x/ratelimit concurrency extend
-- KEYS[1] sorted set of leases, ARGV[1] lease id, ARGV[2] new lease length from now (microseconds)
local t = redis.call('TIME')
local now = t[1] * 1000000 + t[2]
local key = KEYS[1]
local score = tonumber(redis.call('ZSCORE', key, ARGV[1]))
if not score or score <= now then
  redis.call('ZREM', key, ARGV[1])
  return 0
end
local expires = now + tonumber(ARGV[2])
redis.call('ZADD', key, 'XX', string.format('%.0f', expires), ARGV[1])
local last = tonumber(redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')[2])
redis.call('PEXPIREAT', key, string.format('%.0f', math.ceil(last / 1000)))
return math.floor(expires / 1000)
`,
})

/** Reply: leases that have not expired, on the server clock of the node that owns the key. */
export const countScript = defineScript<{ keys: [leases: string]; args: []; result: number }>({
  name: 'ratelimit:active',
  keys: 1,
  lua: `-- @x/ratelimit concurrency count
-- KEYS[1] sorted set of leases
local t = redis.call('TIME')
return redis.call('ZCOUNT', KEYS[1], string.format('(%.0f', t[1] * 1000000 + t[2]), '+inf')
`,
})
