import { defineScript, type Script } from '@x/redis-core'

const tagVersionsLua = `-- KEYS[1..n] tag keys (one hash slot); ARGV[1] ttl ms the versions must at least live
-- Returns the current version of each tag, creating missing ones at the server time in microseconds.
local t = redis.call('TIME')
local micros = string.format('%.0f', tonumber(t[1]) * 1000000 + tonumber(t[2]))
local keepFor = tonumber(ARGV[1])
-- keepFor 0 = read only: a missing tag reads as '0', which no entry carries.
local versions = {}
for i, key in ipairs(KEYS) do
  local version = redis.call('GET', key)
  if not version then
    if keepFor > 0 then
      version = micros
      redis.call('SET', key, version, 'PX', keepFor)
    else
      version = '0'
    end
  elseif keepFor > 0 and redis.call('PTTL', key) < keepFor then
    redis.call('PEXPIRE', key, keepFor)
  end
  versions[i] = version
end
return versions
`

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

// defineScript checks a fixed key count; the Lua is the same for every count (same SHA), so one
// runner per count keeps every tag key declared, as Cluster requires.
const versionScripts = new Map<number, Script<string[]>>()
const invalidateScripts = new Map<number, Script<number>>()

/** Current versions of tags (KEYS: tag keys sharing one slot; ARGV[1]: minimum ttl ms). */
export function tagVersionsScript(count: number): Script<string[]> {
  let script = versionScripts.get(count)
  if (!script) {
    script = defineScript<string[]>({ name: 'cache.tagVersions', keys: count, lua: tagVersionsLua })
    versionScripts.set(count, script)
  }
  return script
}

/** Bumps tag versions (KEYS: tag keys sharing one slot). */
export function invalidateTagsScript(count: number): Script<number> {
  let script = invalidateScripts.get(count)
  if (!script) {
    script = defineScript<number>({ name: 'cache.invalidateTags', keys: count, lua: invalidateLua })
    invalidateScripts.set(count, script)
  }
  return script
}
