import { defineScript } from '@x/redis-core'
import { PRELUDE } from './lua-prelude.js'

/**
 * Lists a user's live sessions with their device metadata, pruning expired index entries (by
 * server time) and removing broken records (a missing or non-numeric field) on the way. Old tokens inside a rotation grace period are not separate devices and
 * are left out.
 *
 * KEYS[1] user index
 * ARGV[1] session key prefix (prefix:{tag}:s:)
 * ARGV[2] idle timeout ms
 *
 * Returns {now, {id, createdAt, lastAccess, absoluteExpiresAt, userAgent, ip, label}...}.
 */
export const userList = defineScript<{
  keys: [index: string]
  args: [sessionKeyPrefix: string, idleTimeoutMs: number]
  result: [
    now: number,
    ...rows: Array<
      [
        id: string,
        createdAt: string,
        lastAccess: string,
        absoluteExpiresAt: string,
        userAgent: string,
        ip: string,
        label: string,
      ]
    >,
  ]
}>({
  name: 'session:listForUser',
  keys: 1,
  lua: `-- KEYS: index | ARGV: keyPrefix, idle
${PRELUDE}
local t = now()
local idle = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', t)
local out = {t}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local f = redis.call('HMGET', ARGV[1] .. id, 'c', 'a', 'x', 'r', 'ua', 'ip', 'l', 'u', 'd', 'v')
  local a, x = num(f[2]), num(f[3])
  if not (num(f[1]) and a and x and f[8] and f[9] and num(f[10])) then
    -- gone, or a record missing a field or holding a non-number: dead like an expired one
    redis.call('UNLINK', ARGV[1] .. id)
    redis.call('ZREM', KEYS[1], id)
  elseif not f[4] and t < x and t < a + idle then
    out[#out + 1] = {id, f[1], f[2], f[3], f[5], f[6], f[7]}
  end
end
return out
`,
})
