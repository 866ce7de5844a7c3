import { defineScript } from '@x/redis-core'

/**
 * Reads the state of a lock without its owner token (which would let a reader release it).
 *
 * KEYS[1] lock key
 * KEYS[2] fencing counter
 *
 * Returns {pttl, last fence}: pttl is -2 when unlocked, -1 when locked without expiry.
 */
export const lockInspect = defineScript<{
  keys: [lock: string, fence: string]
  args: []
  result: [pttl: number, fence: number]
}>({
  name: 'lock:inspect',
  keys: 2,
  lua: `-- KEYS: lock, fence counter | ARGV: none
return {redis.call('PTTL', KEYS[1]), tonumber(redis.call('GET', KEYS[2]) or '0')}
`,
})
