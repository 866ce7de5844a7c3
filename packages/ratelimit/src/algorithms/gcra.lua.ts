/**
 * GCRA (a token bucket stored as one timestamp, its theoretical arrival time), as two Lua functions
 * that the check script composes with the other algorithms of a limiter.
 *
 * decide(key, v, now, mode, cost, limit, window, cap) → rem, reset, arem, areset, retry, pending
 *   key     the policy's state key; v: its value (tat, server microseconds) or nil
 *   mode    0 limit, 1 peek, 2 refund (refund writes here: it cannot be rejected)
 *   rem/reset    remaining units and µs until full, without this request
 *   arem/areset  the same with this request admitted; retry: µs until it fits (0 admits, -1 never)
 *   pending      the value commit() writes when every policy admits
 * commit(key, pending, now, cost, window) writes it.
 */
export const GCRA_LUA = `local function gcra_decide(key, v, now, mode, cost, limit, window, cap)
  local interval = window / limit
  local tat = tonumber(v) or now
  if tat < now then tat = now end
  if mode == 2 then
    tat = tat - cost * interval
    if tat <= now then
      tat = now
      redis.call('DEL', key)
    else
      redis.call('SET', key, string.format('%.0f', math.ceil(tat)), 'PX', math.ceil((tat - now) / 1000))
    end
  end
  local rem = math.max(0, math.floor((now - tat) / interval + cap + 1e-9))
  local new = tat + cost * interval
  local allowAt = new - cap * interval
  if cost > cap then return rem, tat - now, 0, 0, -1 end
  if allowAt > now then return rem, tat - now, 0, 0, allowAt - now end
  return rem, tat - now, math.floor((now - new) / interval + cap + 1e-9), new - now, 0, new
end
local function gcra_commit(key, new, now, cost, window)
  -- lives until the bucket is full again, and at least one window, so a busy key is overwritten
  -- in place instead of expiring and being created again between requests
  redis.call('SET', key, string.format('%.0f', math.ceil(new)), 'PX', math.ceil(math.max(new - now, window) / 1000))
end
`
