import { defineScript } from '@x/redis-core'

/** Writes the block marker the check script reads: "blocked until", in server microseconds. */
export const blockScript = defineScript<{ keys: [blockKey: string]; args: [blockMs: number]; result: null }>({
  name: 'ratelimit:block',
  keys: 1,
  lua: `-- @x/ratelimit block
-- KEYS[1] block key of the limited key
-- ARGV[1] block length in milliseconds (integer > 0)
local t = redis.call('TIME')
local ms = tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%.0f', t[1] * 1000000 + t[2] + ms * 1000), 'PX', ms)
return false
`,
})
