import { defineScript } from '@x/redis-core'
import { PRELUDE } from './lua-prelude.js'

/**
 * Reads a session. The hot path: one HMGET and TIME, and writes only when the last touch is
 * older than the touch interval. A touch sets `a` and the expiry (of the session and of its index
 * entry) and never rewrites the data; it runs only on a key that exists, so it cannot recreate a
 * destroyed session.
 *
 * The store's idle timeout and touch interval are written into the script (one script per
 * configuration), and the id and index name are derived from KEYS[1] only when needed: every
 * argument less is measurably less client CPU on the hottest call.
 *
 * KEYS[1] session hash   prefix:{tag}:s:<id>; its index is prefix:{tag}:u:<userId>, same slot
 *         (the token carries the tag, not the user id, so the script names the index itself)
 * ARGV[1] digest of the secret
 *
 * Returns false (missing or wrong secret), 0 (expired, or a record with a missing or
 * non-numeric field: removed now) or one string, fields joined by \x1f (unit separator): userId,
 * createdAt, lastAccess, absoluteExpiresAt, version, readOnly (1|0), data (see session-reply.ts).
 * One bulk string parses measurably faster in the client than a 7-element array. Data comes
 * last, so it may contain the separator; user ids cannot (no control characters).
 */
export function sessionGetScript(idleTimeout: number, touchInterval: number) {
  if (!Number.isSafeInteger(idleTimeout) || !Number.isSafeInteger(touchInterval)) {
    throw new TypeError('session-get needs integer timeouts')
  }
  return defineScript<{ keys: [session: string]; args: [digest: string]; result: string | 0 | null }>({
    name: 'session:get',
    keys: 1,
    lua: `-- KEYS: session | ARGV: digest | idle ${idleTimeout} ms, touch interval ${touchInterval} ms
${PRELUDE}
local idle, touch = ${idleTimeout}, ${touchInterval}
local f = redis.call('HMGET', KEYS[1], 'h', 'a', 'x', 'd', 'u', 'c', 'v', 'r')
if not same(f[1], ARGV[1]) then return false end
local t = now()
local a, x = num(f[2]), num(f[3])
-- A record missing a field or holding a non-number is dead like an expired one.
if not (a and x and f[4] and f[5] and num(f[6]) and num(f[7])) or t >= x or t >= a + idle then
  redis.call('UNLINK', KEYS[1])
  if f[5] then
    local base, id = string.match(KEYS[1], '^(.*}:)s:([^:]*)$')
    redis.call('ZREM', base .. 'u:' .. f[5], id)
  end
  return 0
end
if f[8] then return table.concat({f[5], f[6], f[2], f[3], f[7], '1', f[4]}, '\\31') end
if t - a >= touch then
  local e = math.min(t + idle, x)
  local base, id = string.match(KEYS[1], '^(.*}:)s:([^:]*)$')
  local index = base .. 'u:' .. f[5]
  redis.call('HSET', KEYS[1], 'a', t)
  redis.call('PEXPIREAT', KEYS[1], e)
  redis.call('ZADD', index, 'XX', e, id)
  redis.call('PEXPIREAT', index, e, 'GT')
  return table.concat({f[5], f[6], t, f[3], f[7], '0', f[4]}, '\\31')
end
return table.concat({f[5], f[6], f[2], f[3], f[7], '0', f[4]}, '\\31')
`,
  })
}
