import { defineScript } from '@x/redis-core'

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

type TagVersions = { keys: string[]; args: [keepForMs: number]; result: string[] }

// defineScript checks a fixed key count; the Lua is the same for every count (same SHA), so one
// runner per count keeps every tag key declared, as Cluster requires.
const define = (count: number) =>
  defineScript<TagVersions>({ name: 'cache:tagVersions', keys: count, lua: tagVersionsLua })
const scripts = new Map<number, ReturnType<typeof define>>()

/**
 * Current versions of tags, created on demand.
 * KEYS[1..n] tag keys (one hash slot)
 * ARGV[1] ms the versions must at least live (0: read only, a missing tag reads as '0')
 * Returns the version of each tag.
 */
export function tagVersionsScript(count: number): ReturnType<typeof define> {
  let script = scripts.get(count)
  if (!script) {
    script = define(count)
    scripts.set(count, script)
  }
  return script
}
