import { defineScript } from '@x/redis-core'

/**
 * Takes the distributed single-flight lease only if the entry is still what the caller read, so a
 * value filled (and its lease released) since that read is returned instead of fetched again.
 * KEYS[1] entry key, KEYS[2] lease key (same hash slot, see leaseKeyOf)
 * ARGV[1] entry header the caller read ('' when absent or unreadable, see entryHeader)
 * ARGV[2] lease token, ARGV[3] lease ttl ms
 * Returns { 1 } lease taken | { 0 } held by someone else | { 2, entry } entry changed since the read
 * (entry: its current string, or null when absent or not a string).
 */
export const acquireLeaseScript = defineScript<{
  keys: [entry: string, lease: string]
  args: [header: string, token: string, leaseMs: number]
  result: [taken: 1] | [held: 0] | [changed: 2, entry: string | null]
}>({
  name: 'cache:acquireLease',
  keys: 2,
  lua: `-- KEYS[1] entry, KEYS[2] lease; ARGV[1] header read, ARGV[2] token, ARGV[3] lease ttl ms
local current = redis.pcall('GET', KEYS[1])
local header = ''
if type(current) == 'string' then
  -- Generation and times identify a fill; a tombstone is its whole string. Mirrors entryHeader.
  header = string.match(current, '^(c1|%d+|%d+|%d+|)%d+|') or string.match(current, '^c1|%d+|t$') or ''
else
  current = false
end
if header ~= ARGV[1] then return { 2, current } end
if redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3], 'NX') then return { 1 } end
return { 0 }
`,
})
