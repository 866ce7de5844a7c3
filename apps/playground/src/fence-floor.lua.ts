import { defineScript, keyspace, type RedisClient, redisCall } from '@x/redis-core'

/**
 * Raises @x/lock's fencing counter of one resource to at least the highest token the database has
 * accepted. Needed after Redis lost its data (a restart without persistence): the counter starts
 * again from 1 while the database still remembers N, and would refuse every later run for ever.
 * Raising it only ever moves tokens up, so fencing stays safe: the next holder gets N + 1.
 *
 * It relies on @x/lock's key layout (`<prefix>:{<resource>}:fence`), as @x/lock has no public way
 * to set a floor yet; this belongs in @x/lock.
 *
 * KEYS[1] the lock's fencing counter
 * ARGV[1] the floor (the database's highest accepted token)
 *
 * Returns the counter after the call.
 */
export const fenceFloor = defineScript<number>({
  name: 'playground-fence-floor',
  keys: 1,
  lua: `-- KEYS: fence counter | ARGV: floor
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local floor = tonumber(ARGV[1])
if current < floor then
  redis.call('SET', KEYS[1], ARGV[1])
  return floor
end
return current
`,
})

export function raiseFenceFloor(redis: RedisClient, lockPrefix: string, resource: string, floor: number) {
  const key = keyspace(lockPrefix).tagged(resource, 'fence')
  return redisCall(fenceFloor.run(redis, [key], [floor]), 2000, 'fence floor')
}
