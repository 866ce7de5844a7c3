import { defineScript } from '@x/redis-core'

/**
 * Releases the writer key if it holds our token, and wakes every waiter (message `*` + key):
 * after a writer, all waiting readers may enter together.
 *
 * KEYS[1] writer key
 * ARGV[1] token
 * ARGV[2] release channel
 *
 * Returns 1 when released, 0 when the lock was not ours.
 */
export const rwReleaseWrite = defineScript<{
  keys: [writer: string]
  args: [token: string, channel: string]
  result: number
}>({
  name: 'lock:rw-release-write',
  keys: 1,
  lua: `-- KEYS: writer | ARGV: token, channel
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], '*' .. KEYS[1])
  return 1
end
return 0
`,
})
