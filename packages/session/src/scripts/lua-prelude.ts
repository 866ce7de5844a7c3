/**
 * Lua shared by the session scripts, inlined into each (a script cannot call another).
 *
 * `now()` reads the Redis server clock, so every app server agrees on expiry.
 *
 * `num(field)` reads a numeric hash field, or nil when it is missing or not a finite number.
 *
 * `same(stored, given)` compares the stored SHA-256 digest with the digest of the presented secret.
 * The secret itself never reaches Redis, so there is nothing secret to leak by timing: an attacker
 * cannot choose the bytes of a digest, so learning "how many leading bytes matched" would not let
 * them build a matching secret. Lua 5.1 interns every string and `==` compares the interned
 * pointers, so the comparison does not scan the strings byte by byte anyway. (A byte-wise
 * constant-time loop in Lua was measured: it costs the hot path more than it could protect.)
 */
export const PRELUDE = `
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- A finite number from a hash field, or nil for a missing or non-numeric one (a record from an
-- older layout or edited by hand): callers treat such a record as not found and remove it.
local function num(s)
  local n = tonumber(s)
  if n and n - n == 0 then return n end
  return nil
end
local function same(stored, given)
  return stored ~= false and stored ~= nil and stored == given
end
`
