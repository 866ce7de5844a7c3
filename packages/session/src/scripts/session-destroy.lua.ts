import { defineScript } from '@x/redis-core'
import { PRELUDE } from './lua-prelude.js'

/**
 * Destroys a session, proven either by its secret (logout) or by its owner (revoking a device
 * from the device list), together with the other half of a rotation still in its grace period.
 *
 * KEYS[1] session hash
 * ARGV[1] 'h': ARGV[2] is the digest of the secret; 'u': ARGV[2] is the owning user id
 * ARGV[2] digest or user id
 * ARGV[3] id (index member)
 * ARGV[4] session key prefix (prefix:{tag}:s:), for the rotation partner in the same slot
 * ARGV[5] index key prefix (prefix:{tag}:u:); the index is ARGV[5] .. userId, same slot
 *
 * Returns 1 when a session was destroyed, 0 otherwise.
 */
export const sessionDestroy = defineScript<{
  keys: [session: string]
  args: [
    proof: 'h' | 'u',
    digestOrUserId: string,
    id: string,
    sessionKeyPrefix: string,
    indexKeyPrefix: string,
  ]
  result: 0 | 1
}>({
  name: 'session:destroy',
  keys: 1,
  lua: `-- KEYS: session | ARGV: 'h'|'u', digest|userId, id, keyPrefix, indexPrefix
${PRELUDE}
local f = redis.call('HMGET', KEYS[1], ARGV[1], 'p', 'r', 'u')
if ARGV[1] == 'h' then
  if not same(f[1], ARGV[2]) then return 0 end
elseif f[1] ~= ARGV[2] then
  return 0
end
-- A record without its user id (older layout, hand edit) is destroyed all the same.
local index = f[4] and (ARGV[5] .. f[4])
redis.call('UNLINK', KEYS[1])
if index then redis.call('ZREM', index, ARGV[3]) end
for i = 2, 3 do
  if f[i] then
    redis.call('UNLINK', ARGV[4] .. f[i])
    if index then redis.call('ZREM', index, f[i]) end
  end
end
return 1
`,
})
