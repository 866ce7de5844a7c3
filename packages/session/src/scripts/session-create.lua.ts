import { defineScript } from '@x/redis-core'
import { PRELUDE } from './lua-prelude.js'

/**
 * Creates a session and registers it in its user's index, pruning expired entries and evicting
 * the sessions closest to expiry when the user has more than `maxSessions`.
 *
 * KEYS[1] session hash         prefix:{tag}:s:<id>
 * KEYS[2] user index (zset)    prefix:{tag}:u:<userId>   member id, score = expiry ms
 * ARGV[1] digest of the secret
 * ARGV[2] user id
 * ARGV[3] encoded data
 * ARGV[4] idle timeout ms
 * ARGV[5] absolute timeout ms
 * ARGV[6] id
 * ARGV[7] max sessions per user
 * ARGV[8] user agent   ARGV[9] ip   ARGV[10] label   (empty string when absent)
 * ARGV[11] session key prefix (prefix:{tag}:s:), to evict siblings in the same slot
 *
 * Returns {now, absoluteExpiresAt, evicted} or false when the id already exists.
 */
export const sessionCreate = defineScript<{
  keys: [session: string, index: string]
  args: [
    digest: string,
    userId: string,
    data: string,
    idleTimeoutMs: number,
    absoluteTimeoutMs: number,
    id: string,
    maxSessions: number,
    userAgent: string,
    ip: string,
    label: string,
    sessionKeyPrefix: string,
  ]
  result: [createdAt: number, absoluteExpiresAt: number, evicted: number] | null
}>({
  name: 'session:create',
  keys: 2,
  lua: `-- KEYS: session, index | ARGV: digest, userId, data, idle, absolute, id, max, ua, ip, label, keyPrefix
${PRELUDE}
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local t = now()
local x = t + tonumber(ARGV[5])
local e = math.min(t + tonumber(ARGV[4]), x)
redis.call('HSET', KEYS[1], 'h', ARGV[1], 'u', ARGV[2], 'd', ARGV[3], 'c', t, 'a', t, 'x', x, 'v', 1,
  'ua', ARGV[8], 'ip', ARGV[9], 'l', ARGV[10])
redis.call('PEXPIREAT', KEYS[1], e)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', t)
redis.call('ZADD', KEYS[2], e, ARGV[6])
local evicted = 0
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[7])
if over > 0 then
  for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, over)) do
    if id ~= ARGV[6] and evicted < over then
      redis.call('UNLINK', ARGV[11] .. id)
      redis.call('ZREM', KEYS[2], id)
      evicted = evicted + 1
    end
  end
end
local top = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[2], top[2])
return {t, x, evicted}
`,
})
