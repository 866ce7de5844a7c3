import { defineScript } from '@x/redis-core'
import { PRELUDE } from './lua-prelude.js'

/**
 * Destroys every session of a user in one atomic step (the index is bounded by
 * maxSessionsPerUser, so the step is bounded too). A login that ran before this script is in the
 * index and dies; one that runs after it survives: there is no in-between.
 *
 * KEYS[1] user index
 * ARGV[1] session key prefix (prefix:{tag}:s:)
 * ARGV[2] id to keep ('' for none)
 * ARGV[3] digest of the kept session's secret (the exception holds only for its real owner)
 *
 * Returns the number of sessions destroyed.
 */
export const userDestroy = defineScript<{
  keys: [index: string]
  args: [sessionKeyPrefix: string, keepId: string, keepDigest: string]
  result: number
}>({
  name: 'session:destroyForUser',
  keys: 1,
  lua: `-- KEYS: index | ARGV: keyPrefix, keep id, keep digest
${PRELUDE}
local keep = {}
if ARGV[2] ~= '' then
  local f = redis.call('HMGET', ARGV[1] .. ARGV[2], 'h', 'r')
  if same(f[1], ARGV[3]) then
    keep[ARGV[2]] = true
    -- kept through the old token of a rotation: its successor is the browser's current cookie
    if f[2] then keep[f[2]] = true end
  end
end
local n = 0
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if not keep[id] then
    n = n + redis.call('UNLINK', ARGV[1] .. id)
    redis.call('ZREM', KEYS[1], id)
  end
end
return n
`,
})
