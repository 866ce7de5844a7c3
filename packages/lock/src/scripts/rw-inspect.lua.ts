import { defineScript } from '@x/redis-core'

/**
 * Reads a read-write lock's state without any token.
 *
 * KEYS[1] writer key
 * KEYS[2] readers (sorted set: token → expiry ms)
 * KEYS[3] fencing counter
 *
 * Returns {writer pttl (-2 when none), live readers, last fence}.
 */
export const rwInspect = defineScript<{
  keys: [writer: string, readers: string, fence: string]
  args: []
  result: [writerPttl: number, readers: number, fence: number]
}>({
  name: 'lock:rw-inspect',
  keys: 3,
  lua: `-- KEYS: writer, readers, fence counter | ARGV: none
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
return {
  redis.call('PTTL', KEYS[1]),
  redis.call('ZCOUNT', KEYS[2], '(' .. now, '+inf'),
  tonumber(redis.call('GET', KEYS[3]) or '0'),
}
`,
})
