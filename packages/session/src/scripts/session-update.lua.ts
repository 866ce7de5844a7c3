import { defineScript } from '@x/redis-core'
import { PRELUDE } from './lua-prelude.js'

/**
 * Compare-and-set of the data: writes only when the stored version is the one the caller read,
 * so a concurrent writer's update is never overwritten unseen. A successful write also counts as
 * activity (slides the idle expiry). Never creates a key.
 *
 * KEYS[1] session hash
 * ARGV[1] digest of the secret
 * ARGV[2] expected version
 * ARGV[3] new encoded data
 * ARGV[4] idle timeout ms
 * ARGV[5] id (index member)
 * ARGV[6] index key prefix (prefix:{tag}:u:); the index is ARGV[6] .. userId, same slot
 *
 * Returns {1, version, lastAccess} written, {0} missing/expired/broken record (removed), {2, currentVersion} conflict,
 * {3} the token was rotated away (read-only during its grace period).
 */
export const sessionUpdate = defineScript<{
  keys: [session: string]
  args: [
    digest: string,
    expectedVersion: number,
    data: string,
    idleTimeoutMs: number,
    id: string,
    indexKeyPrefix: string,
  ]
  result: [1, version: number, lastAccess: number] | [0] | [2, version: number] | [3]
}>({
  name: 'session:update',
  keys: 1,
  lua: `-- KEYS: session | ARGV: digest, expected version, data, idle, id, indexPrefix
${PRELUDE}
local f = redis.call('HMGET', KEYS[1], 'h', 'a', 'x', 'v', 'r', 'u')
if not same(f[1], ARGV[1]) then return {0} end
local t = now()
local a, x, v, idle = num(f[2]), num(f[3]), num(f[4]), tonumber(ARGV[4])
-- A record missing a field or holding a non-number is dead like an expired one.
if not (a and x and v and f[6]) or t >= x or t >= a + idle then
  redis.call('UNLINK', KEYS[1])
  if f[6] then redis.call('ZREM', ARGV[6] .. f[6], ARGV[5]) end
  return {0}
end
if f[5] then return {3} end
if f[4] ~= ARGV[2] then return {2, v} end
v = v + 1
local e = math.min(t + idle, x)
redis.call('HSET', KEYS[1], 'd', ARGV[3], 'v', v, 'a', t)
redis.call('PEXPIREAT', KEYS[1], e)
local index = ARGV[6] .. f[6]
redis.call('ZADD', index, 'XX', e, ARGV[5])
redis.call('PEXPIREAT', index, e, 'GT')
return {1, v, t}
`,
})
