/**
 * Lua shared by the session scripts, inlined into each (a script cannot call another).
 *
 * `now()` reads the Redis server clock, so every app server agrees on expiry.
 *
 * `same(a, b)` compares two SHA-256 digests without an early exit: the time it takes does not
 * depend on how many leading characters match. Comparing digests (never secrets) already leaks
 * nothing useful, since a caller cannot steer the bytes of a digest; the constant-time loop makes
 * that independent of the argument.
 */
export const PRELUDE = `
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function same(a, b)
  if not a or #a ~= #b then return false end
  local diff = 0
  for i = 1, #a do
    diff = bit.bor(diff, bit.bxor(string.byte(a, i), string.byte(b, i)))
  end
  return diff == 0
end
`
