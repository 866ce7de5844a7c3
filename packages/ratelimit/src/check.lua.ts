import { defineScript, type Script } from '@x/redis-core'

/**
 * Reply: `[status, nowMicros, ...per policy (remaining, resetMs, retryAfterMs)]`.
 * status 1 = admitted (or would be, for peek), 0 = rejected, 2 = blocked (then the third entry is
 * the block's remaining milliseconds), 3 = the call ran after its deadline and changed nothing.
 * retryAfterMs -1 means never (cost above capacity).
 */
export type CheckReply = number[]

export const MODE_LIMIT = 0
export const MODE_PEEK = 1
export const MODE_REFUND = 2

/*
 * Every policy of one key is read first, decided, and only then written, so a request that any
 * policy rejects consumes from none of them. Times are server microseconds from TIME, never a
 * client clock. Numbers are written with %.0f because tostring() keeps only 14 digits.
 */
export interface CompiledPolicy {
  /** 1 gcra, 2 sliding window, 3 fixed window, 4 sliding log */
  code: number
  limit: number
  windowUs: number
  capacity: number
}

/**
 * One script body for every limiter; each limiter's policies are compiled into its first line as
 * constants, so a check sends only mode, cost and deadline (fewer arguments to encode and parse on
 * every call). A limiter therefore has its own SHA; a process has as many as it has limiter configurations.
 */
export function checkScript(policies: readonly CompiledPolicy[]): Script<CheckReply> {
  const constants = policies.map((p) => `${p.code}, ${p.limit}, ${p.windowUs}, ${p.capacity}`).join(', ')
  return defineScript<CheckReply>({
    name: 'ratelimit:check',
    keys: policies.length + 1,
    lua: `${CHECK_HEADER}local P = {${constants}}\n${CHECK_BODY}`,
  })
}

const CHECK_HEADER = `-- @x/ratelimit check
-- KEYS[1]      block key of the limited key (its value: blocked until, server microseconds)
-- KEYS[2..n+1] state key of each policy (all share the limited key's hash tag)
-- ARGV[1]      mode: 0 limit (consume when every policy admits), 1 peek, 2 refund
-- ARGV[2]      cost (integer >= 1)
-- ARGV[3]      deadline in server microseconds, 0 = none: a late execution changes nothing
-- P            (compiled in) per policy: algorithm (1 gcra, 2 sliding window, 3 fixed window,
--              4 sliding log), limit, window (microseconds), capacity (gcra burst)
`

const CHECK_BODY = `local t = redis.call('TIME')
local now = t[1] * 1000000 + t[2]
local deadline = tonumber(ARGV[3])
if deadline > 0 and now > deadline then return {3, now} end
local mode = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local floor, ceil, fmt = math.floor, math.ceil, string.format
-- one read for the block marker and every counter (a sorted set reads as false)
local V = redis.call('MGET', unpack(KEYS))
if mode ~= 2 then
  local blocked = tonumber(V[1])
  if blocked and blocked > now then return {2, now, ceil((blocked - now) / 1000)} end
end
local n = #KEYS - 1
local admit = true
local R, S, AR, AS, RT, pending = {}, {}, {}, {}, {}, {}
for i = 1, n do
  local key = KEYS[i + 1]
  local b = 1 + (i - 1) * 4
  local alg, limit, window, cap = P[b], P[b + 1], P[b + 2], P[b + 3]
  -- rem/reset describe the state without this request; arem/areset with it; retry 0 = admits
  local rem, reset, arem, areset, retry = 0, 0, 0, 0, 0
  if alg == 1 then
    local interval = window / limit
    local tat = tonumber(V[i + 1]) or now
    if tat < now then tat = now end
    if mode == 2 then
      tat = tat - cost * interval
      if tat <= now then
        tat = now
        redis.call('DEL', key)
      else
        redis.call('SET', key, fmt('%.0f', ceil(tat)), 'PX', ceil((tat - now) / 1000))
      end
    end
    rem = math.max(0, floor((now - tat) / interval + cap + 1e-9))
    reset = tat - now
    local new = tat + cost * interval
    local allowAt = new - cap * interval
    if cost > cap then retry = -1
    elseif allowAt > now then retry = allowAt - now
    else
      arem = floor((now - new) / interval + cap + 1e-9)
      areset = new - now
      pending[i] = new
    end
  elseif alg == 2 then
    -- value = (current * 2^24 + previous) * 32 + window index mod 32: one integer below 2^53
    local cur = floor(now / window)
    local c, p = 0, 0
    local v = tonumber(V[i + 1])
    if v then
      local tag, rest = v % 32, floor(v / 32)
      if tag == cur % 32 then c, p = floor(rest / 16777216), rest % 16777216
      elseif tag == (cur - 1) % 32 then p = floor(rest / 16777216) end
    end
    local start = cur * window
    if mode == 2 then
      local take = math.min(cost, c)
      c = c - take
      p = math.max(0, p - (cost - take))
      if c + p == 0 then redis.call('DEL', key)
      else redis.call('SET', key, fmt('%.0f', (c * 16777216 + p) * 32 + cur % 32), 'PXAT', fmt('%.0f', (start + 2 * window) / 1000)) end
    end
    local est = p * (1 - (now - start) / window) + c
    rem = math.max(0, floor(limit - est + 1e-9))
    if c > 0 then reset = start + 2 * window - now elseif p > 0 then reset = start + window - now end
    if cost > limit then retry = -1
    elseif est + cost > limit + 1e-9 then
      -- the earliest time the weighted estimate leaves room for cost, plus 1 us against rounding
      if c + cost <= limit then retry = start + window * (1 - (limit - c - cost) / p) - now + 1
      else retry = start + window + window * (1 - (limit - cost) / c) - now + 1 end
    else
      arem = math.max(0, floor(limit - est - cost + 1e-9))
      areset = start + 2 * window - now
      pending[i] = fmt('%.0f', ((c + cost) * 16777216 + p) * 32 + cur % 32)
    end
  elseif alg == 3 then
    -- value = count * 1024 + window index mod 1024: one integer
    local cur = floor(now / window)
    local finish = (cur + 1) * window
    local c = 0
    local v = tonumber(V[i + 1])
    if v and v % 1024 == cur % 1024 then c = floor(v / 1024) end
    if mode == 2 then
      c = math.max(0, c - cost)
      if c == 0 then redis.call('DEL', key)
      else redis.call('SET', key, fmt('%.0f', c * 1024 + cur % 1024), 'PXAT', fmt('%.0f', finish / 1000)) end
    end
    rem = math.max(0, limit - c)
    if c > 0 then reset = finish - now end
    if cost > limit then retry = -1
    elseif c + cost > limit then retry = finish - now
    else
      arem = limit - c - cost
      areset = finish - now
      pending[i] = fmt('%.0f', (c + cost) * 1024 + cur % 1024)
    end
  else
    local low = now - window
    if mode == 0 then redis.call('ZREMRANGEBYSCORE', key, '-inf', fmt('%.0f', low)) end
    if mode == 2 then redis.call('ZPOPMAX', key, cost) end
    local open = '(' .. fmt('%.0f', low)
    local c = redis.call('ZCOUNT', key, open, '+inf')
    local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')[2]
    last = tonumber(last) or 0
    rem = math.max(0, limit - c)
    if c > 0 then reset = last + window - now end
    if cost > limit then retry = -1
    elseif c + cost > limit then
      local oldest = redis.call('ZRANGEBYSCORE', key, open, '+inf', 'WITHSCORES', 'LIMIT', c + cost - limit - 1, 1)
      retry = tonumber(oldest[2]) + window - now
    else
      -- entries are strictly increasing microseconds, so every member is unique
      local base = now
      if last >= base then base = last + 1 end
      arem = limit - c - cost
      areset = base + cost - 1 + window - now
      pending[i] = base
    end
  end
  if retry ~= 0 then admit = false end
  R[i], S[i], AR[i], AS[i], RT[i] = rem, reset, arem, areset, retry
end
local out = {1, now}
if mode == 2 or not admit then
  if not admit then out[1] = 0 end
  for i = 1, n do
    local r = RT[i]
    if r > 0 then r = ceil(r / 1000) end
    out[#out + 1] = R[i]
    out[#out + 1] = ceil(S[i] / 1000)
    out[#out + 1] = r
  end
  return out
end
for i = 1, n do
  if mode == 0 then
    local b = 1 + (i - 1) * 4
    local alg, window = P[b], P[b + 2]
    local key, value = KEYS[i + 1], pending[i]
    if alg == 1 then
      -- lives until the bucket is full again, and at least one window, so a busy key is
      -- overwritten in place instead of expiring and being created again between requests
      redis.call('SET', key, fmt('%.0f', ceil(value)), 'PX', ceil(math.max(value - now, window) / 1000))
    elseif alg == 2 then
      redis.call('SET', key, value, 'PXAT', fmt('%.0f', (floor(now / window) + 2) * window / 1000))
    elseif alg == 3 then
      redis.call('SET', key, value, 'PXAT', fmt('%.0f', (floor(now / window) + 1) * window / 1000))
    else
      local j = 0
      while j < cost do
        local batch = {}
        for m = j, math.min(cost, j + 256) - 1 do
          local score = fmt('%.0f', value + m)
          batch[#batch + 1] = score
          batch[#batch + 1] = score
        end
        redis.call('ZADD', key, unpack(batch))
        j = j + 256
      end
      redis.call('PEXPIRE', key, ceil((value + cost - 1 + window - now) / 1000))
    end
    out[#out + 1] = AR[i]
    out[#out + 1] = ceil(AS[i] / 1000)
  else
    out[#out + 1] = R[i]
    out[#out + 1] = ceil(S[i] / 1000)
  end
  out[#out + 1] = 0
end
return out
`
