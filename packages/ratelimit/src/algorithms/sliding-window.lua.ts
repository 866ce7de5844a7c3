/**
 * Sliding-window counter: the current and the previous fixed window, the previous one weighted by
 * how much of it still overlaps. Same decide/commit contract as `GCRA_LUA`.
 * Stored value: (current × 2^24 + previous) × 32 + window index mod 32, one integer below 2^53.
 */
export const SLIDING_WINDOW_LUA = `local function sw_decide(key, v, now, mode, cost, limit, window)
  local floor, fmt = math.floor, string.format
  local cur = floor(now / window)
  local c, p = 0, 0
  v = tonumber(v)
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
  local rem = math.max(0, floor(limit - est + 1e-9))
  local reset = 0
  if c > 0 then reset = start + 2 * window - now elseif p > 0 then reset = start + window - now end
  if cost > limit then return rem, reset, 0, 0, -1 end
  if est + cost > limit + 1e-9 then
    -- the earliest time the weighted estimate leaves room for cost, plus 1 us against rounding
    if c + cost <= limit then return rem, reset, 0, 0, start + window * (1 - (limit - c - cost) / p) - now + 1 end
    return rem, reset, 0, 0, start + window + window * (1 - (limit - cost) / c) - now + 1
  end
  local pending = fmt('%.0f', ((c + cost) * 16777216 + p) * 32 + cur % 32)
  return rem, reset, math.max(0, floor(limit - est - cost + 1e-9)), start + 2 * window - now, 0, pending
end
local function sw_commit(key, value, now, cost, window)
  redis.call('SET', key, value, 'PXAT', string.format('%.0f', (math.floor(now / window) + 2) * window / 1000))
end
`
