import { defineScript } from '@x/redis-core'
import { READ_GENERATION_LUA } from './generation.js'

/**
 * Cache-aside write after a fetch: compare-and-set on the generation seen before the fetch.
 * KEYS[1] entry key
 * ARGV[1] generation seen before the fetch ('0' when the key was absent)
 * ARGV[2] fresh ttl ms, ARGV[3] grace ms, ARGV[4] envelope body (tags + payload)
 * Returns { 1 written | 0 refused, server time ms }.
 * A delete, update or set since the snapshot changed the generation, so the older result is refused.
 * An absent or foreign/corrupt value counts as "nothing to protect" and is overwritten.
 */
export const fillScript = defineScript<{
  keys: [entry: string]
  args: [generation: string, ttlMs: number, graceMs: number, body: string]
  result: [written: number, nowMs: number]
}>({
  name: 'cache:fill',
  keys: 1,
  lua: `-- KEYS[1] entry; ARGV[1] expected generation, ARGV[2] ttl ms, ARGV[3] grace ms, ARGV[4] body
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
${READ_GENERATION_LUA}
if generation and generation ~= ARGV[1] then return { 0, now } end
local ttl = tonumber(ARGV[2])
local grace = tonumber(ARGV[3])
redis.call('SET', KEYS[1], 'c1|' .. (generation or ARGV[1]) .. '|' .. string.format('%.0f', now + ttl) .. '|'
  .. string.format('%.0f', now + ttl + grace) .. '|' .. ARGV[4], 'PX', string.format('%.0f', ttl + grace))
return { 1, now }
`,
})
