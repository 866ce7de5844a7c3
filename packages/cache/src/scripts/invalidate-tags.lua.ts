import { defineScript } from '@x/redis-core'

const invalidateLua = `-- KEYS[1..n] tag keys (one hash slot)
-- Moves each existing tag to a new version (server microseconds, strictly increasing); entries
-- stamped with an older version read as misses. A missing tag has no live entries: nothing to do.
local t = redis.call('TIME')
local micros = tonumber(t[1]) * 1000000 + tonumber(t[2])
local bumped = 0
for _, key in ipairs(KEYS) do
  local version = redis.call('GET', key)
  if version then
    redis.call('SET', key, string.format('%.0f', math.max(micros, tonumber(version) + 1)), 'KEEPTTL')
    bumped = bumped + 1
  end
end
return bumped
`

type InvalidateTags = { keys: string[]; args: readonly []; result: number }

// One runner per key count, as for tagVersions (same Lua, same SHA).
const define = (count: number) =>
  defineScript<InvalidateTags>({ name: 'cache:invalidateTags', keys: count, lua: invalidateLua })
const scripts = new Map<number, ReturnType<typeof define>>()

/**
 * Moves tags to a new version.
 * KEYS[1..n] tag keys (one hash slot)
 * Returns how many existed.
 */
export function invalidateTagsScript(count: number): ReturnType<typeof define> {
  let script = scripts.get(count)
  if (!script) {
    script = define(count)
    scripts.set(count, script)
  }
  return script
}
