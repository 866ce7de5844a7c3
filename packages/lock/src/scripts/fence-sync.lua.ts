import { defineScript } from '@x/redis-core'

/**
 * Redlock only: raises a server's fencing counter to the fence handed out by the quorum. Any later
 * majority shares a server with ours, whose counter then sits at or above our fence, so the next
 * fence minted there (at least counter + 1, see mint-fence.ts) and the maximum the next holder
 * takes are strictly higher, whatever the servers' clocks say.
 *
 * KEYS[1] fencing counter
 * ARGV[1] fence
 *
 * Returns 1.
 */
export const fenceSync = defineScript<{ keys: [fence: string]; args: [fence: number]; result: number }>({
  name: 'lock:sync-fence',
  keys: 1,
  lua: `-- KEYS: fence counter | ARGV: fence
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1])
end
return 1
`,
})
