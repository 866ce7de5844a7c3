/**
 * Sliding log: one sorted-set entry per admitted unit (member = score = server microseconds,
 * strictly increasing, so unique), never more than the limit. Same decide/commit contract as
 * `GCRA_LUA`; it reads its sorted set itself (the check's MGET sees nothing for it).
 */
export const SLIDING_LOG_LUA = `local function log_decide(key, v, now, mode, cost, limit, window)
  local fmt = string.format
  local low = now - window
  if mode == 0 then redis.call('ZREMRANGEBYSCORE', key, '-inf', fmt('%.0f', low)) end
  if mode == 2 then redis.call('ZPOPMAX', key, cost) end
  local open = '(' .. fmt('%.0f', low)
  local c = redis.call('ZCOUNT', key, open, '+inf')
  local last = tonumber(redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')[2]) or 0
  local reset = 0
  if c > 0 then reset = last + window - now end
  if cost > limit then return math.max(0, limit - c), reset, 0, 0, -1 end
  if c + cost > limit then
    local oldest = redis.call('ZRANGEBYSCORE', key, open, '+inf', 'WITHSCORES', 'LIMIT', c + cost - limit - 1, 1)
    return math.max(0, limit - c), reset, 0, 0, tonumber(oldest[2]) + window - now
  end
  local base = now
  if last >= base then base = last + 1 end
  return limit - c, reset, limit - c - cost, base + cost - 1 + window - now, 0, base
end
local function log_commit(key, base, now, cost, window)
  -- in batches of 256 entries: unpack() has a limit on its arguments
  local j = 0
  while j < cost do
    local batch = {}
    for m = j, math.min(cost, j + 256) - 1 do
      local score = string.format('%.0f', base + m)
      batch[#batch + 1] = score
      batch[#batch + 1] = score
    end
    redis.call('ZADD', key, unpack(batch))
    j = j + 256
  end
  redis.call('PEXPIRE', key, math.ceil((base + cost - 1 + window - now) / 1000))
end
`
