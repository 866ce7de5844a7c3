import { defineScript } from '@x/redis-core'

/**
 * Raises a resource's fencing counter to at least a floor and never lowers it. Used by
 * `lock.raiseFence` when the protected resource remembers a higher token than the next fence would be
 * (a server clock set back, or a counter that had been raised above the clock and was then lost):
 * the next mint is then floor + 1 or more, which the resource accepts again.
 *
 * KEYS[1] fencing counter
 * ARGV[1] floor (a non-negative integer)
 *
 * Returns the counter after the call, max(current, floor), as a decimal string: Redis turns a Lua
 * number reply into an integer through a double conversion that is off by one near 2^53.
 */
export const fenceRaise = defineScript<{ keys: [fence: string]; args: [floor: number]; result: string }>({
  name: 'lock:raise-fence',
  keys: 1,
  lua: `-- KEYS: fence counter | ARGV: floor
local current = redis.call('GET', KEYS[1]) or '0'
if tonumber(current) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1])
  return ARGV[1]
end
return current
`,
})
