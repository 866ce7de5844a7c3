/**
 * Lua that sets `generation` to the generation of KEYS[1]'s envelope, or nil when the key is absent,
 * not a string, or not a well-formed envelope (corrupt or foreign data is not worth protecting and
 * is overwritten). Mirrors parseEntry's header rules.
 */
export const READ_GENERATION_LUA = `local current = redis.pcall('GET', KEYS[1])
local generation = nil
if type(current) == 'string' then
  generation = string.match(current, '^c1|(%d+)|%d+|%d+|%d+|') or string.match(current, '^c1|(%d+)|t$')
end`
