import { defineScript } from '@x/redis-core'
import { READ_GENERATION_LUA } from './generation.js'

/**
 * Delete that leaves a tombstone with a new generation instead of nothing, so a fetch that read the
 * key (or its absence) before the delete cannot write its older result afterwards.
 * KEYS[1] entry key
 * ARGV[1] tombstone ttl ms
 * Returns { 1 a value existed | 0, server time ms, new generation }.
 */
export const deleteScript = defineScript<{
  keys: [entry: string]
  args: [tombstoneTtlMs: number]
  result: [existed: number, nowMs: number, generation: string]
}>({
  name: 'cache:delete',
  keys: 1,
  lua: `-- KEYS[1] entry; ARGV[1] tombstone ttl ms
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local micros = tonumber(t[1]) * 1000000 + tonumber(t[2])
${READ_GENERATION_LUA}
local existed = 0
if generation and not string.match(current, '^c1|%d+|t$') then existed = 1 end
local nextGeneration = string.format('%.0f', math.max(micros, tonumber(generation or '0') + 1))
redis.call('SET', KEYS[1], 'c1|' .. nextGeneration .. '|t', 'PX', ARGV[1])
return { existed, now, nextGeneration }
`,
})
