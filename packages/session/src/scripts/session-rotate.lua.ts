import { defineScript } from '@x/redis-core'
import { PRELUDE } from './lua-prelude.js'

/**
 * Moves a session to a new id and secret in one step: the new hash gets the data, version,
 * creation time, absolute expiry and device; the index gains the new id and loses the old one (or
 * keeps it until the grace ends; a predecessor of the old token still in grace dies now). During the grace the old hash is a read-only copy that points to
 * its successor (`r`), and the successor remembers it (`p`) so destroying either kills both.
 *
 * KEYS[1] old session hash
 * KEYS[2] new session hash
 * ARGV[1] old digest   ARGV[2] new digest
 * ARGV[3] old id       ARGV[4] new id
 * ARGV[5] grace ms (0: the old token dies now)
 * ARGV[6] idle timeout ms
 * ARGV[7] index key prefix (prefix:{tag}:u:); the index is ARGV[7] .. userId, same slot
 *
 * Returns false (old token invalid or already rotated), 0 (expired or a broken record: removed
 * now) or the new session packed as session-get packs it (see session-reply.ts).
 */
export const sessionRotate = defineScript<{
  keys: [oldSession: string, newSession: string]
  args: [
    oldDigest: string,
    newDigest: string,
    oldId: string,
    newId: string,
    graceMs: number,
    idleTimeoutMs: number,
    indexKeyPrefix: string,
  ]
  result: string | 0 | null
}>({
  name: 'session:rotate',
  keys: 2,
  lua: `-- KEYS: old session, new session | ARGV: old digest, new digest, old id, new id, grace, idle, indexPrefix
${PRELUDE}
local f = redis.call('HMGET', KEYS[1], 'h', 'a', 'x', 'r', 'u', 'd', 'c', 'v', 'ua', 'ip', 'l', 'p')
if not same(f[1], ARGV[1]) then return false end
local t = now()
local index = ARGV[7] .. (f[5] or '')
local a, x, idle = num(f[2]), num(f[3]), tonumber(ARGV[6])
-- A record missing a field or holding a non-number is dead like an expired one.
if not (a and x and f[5] and f[6] and num(f[7]) and num(f[8])) or t >= x or t >= a + idle then
  redis.call('UNLINK', KEYS[1])
  if f[5] then redis.call('ZREM', index, ARGV[3]) end
  return 0
end
if f[4] or redis.call('EXISTS', KEYS[2]) == 1 then return false end
local e = math.min(t + idle, x)
redis.call('HSET', KEYS[2], 'h', ARGV[2], 'u', f[5], 'd', f[6], 'c', f[7], 'a', t, 'x', f[3], 'v', f[8],
  'ua', f[9] or '', 'ip', f[10] or '', 'l', f[11] or '')
redis.call('PEXPIREAT', KEYS[2], e)
redis.call('ZADD', index, e, ARGV[4])
-- A predecessor still in its grace ends now: only one old token per session is ever alive.
if f[12] then
  redis.call('UNLINK', string.sub(KEYS[1], 1, #KEYS[1] - #ARGV[3]) .. f[12])
  redis.call('ZREM', index, f[12])
end
local grace = tonumber(ARGV[5])
if grace > 0 then
  local g = math.min(t + grace, x)
  redis.call('HSET', KEYS[1], 'r', ARGV[4])
  redis.call('HSET', KEYS[2], 'p', ARGV[3])
  redis.call('PEXPIREAT', KEYS[1], g)
  redis.call('ZADD', index, g, ARGV[3])
else
  redis.call('UNLINK', KEYS[1])
  redis.call('ZREM', index, ARGV[3])
end
redis.call('PEXPIREAT', index, e, 'GT')
return table.concat({f[5], f[7], t, f[3], f[8], '0', f[6]}, '\\31')
`,
})
