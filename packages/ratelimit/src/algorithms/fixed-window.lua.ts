/**
 * Fixed window: one counter per aligned window. Same decide/commit contract as `GCRA_LUA`.
 * Stored value: count × 1024 + window index mod 1024, one integer (exact while count ≤ 2^43 - 1).
 */
export const FIXED_WINDOW_LUA = `local function fw_decide(key, v, now, mode, cost, limit, window)
  local fmt = string.format
  local cur = math.floor(now / window)
  local finish = (cur + 1) * window
  local c = 0
  v = tonumber(v)
  if v and v % 1024 == cur % 1024 then c = math.floor(v / 1024) end
  if mode == 2 then
    c = math.max(0, c - cost)
    if c == 0 then redis.call('DEL', key)
    else redis.call('SET', key, fmt('%.0f', c * 1024 + cur % 1024), 'PXAT', fmt('%.0f', finish / 1000)) end
  end
  local reset = 0
  if c > 0 then reset = finish - now end
  if cost > limit then return math.max(0, limit - c), reset, 0, 0, -1 end
  if c + cost > limit then return math.max(0, limit - c), reset, 0, 0, finish - now end
  return limit - c, reset, limit - c - cost, finish - now, 0, fmt('%.0f', (c + cost) * 1024 + cur % 1024)
end
local function fw_commit(key, value, now, cost, window)
  redis.call('SET', key, value, 'PXAT', string.format('%.0f', (math.floor(now / window) + 1) * window / 1000))
end
`
