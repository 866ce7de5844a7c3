import { defineScript } from '@x/redis-core'
import { READ_GENERATION_LUA } from './generation.js'

/**
 * Write-through: stores a value under a new generation, so every fetch that started earlier is refused.
 * KEYS[1] entry key
 * ARGV[1] mode: 'set' (unconditional) or 'commit' (only if the generation is still ARGV[2]; otherwise
 *         leave a tombstone, because someone else changed the key while the writer ran)
 * ARGV[2] expected generation (commit), ARGV[3] fresh ttl ms, ARGV[4] grace ms, ARGV[5] envelope body,
 * ARGV[6] tombstone ttl ms
 * Returns { 1 stored | 0 invalidated instead, server time ms, new generation }.
 */
export const writeScript = defineScript<{
  keys: [entry: string]
  args: [
    mode: 'set' | 'commit',
    generation: string,
    ttlMs: number,
    graceMs: number,
    body: string,
    tombstoneTtlMs: number,
  ]
  result: [stored: number, nowMs: number, generation: string]
}>({
  name: 'cache:write',
  keys: 1,
  lua: `-- KEYS[1] entry; ARGV[1] mode, ARGV[2] expected generation, ARGV[3] ttl, ARGV[4] grace, ARGV[5] body, ARGV[6] tombstone ttl
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local micros = tonumber(t[1]) * 1000000 + tonumber(t[2])
${READ_GENERATION_LUA}
-- Server microseconds, so a generation never repeats after the key (or its tombstone) expired.
local nextGeneration = string.format('%.0f', math.max(micros, tonumber(generation or '0') + 1))
if ARGV[1] == 'commit' and generation and generation ~= ARGV[2] then
  redis.call('SET', KEYS[1], 'c1|' .. nextGeneration .. '|t', 'PX', ARGV[6])
  return { 0, now, nextGeneration }
end
local ttl = tonumber(ARGV[3])
local grace = tonumber(ARGV[4])
redis.call('SET', KEYS[1], 'c1|' .. nextGeneration .. '|' .. string.format('%.0f', now + ttl) .. '|'
  .. string.format('%.0f', now + ttl + grace) .. '|' .. ARGV[5], 'PX', string.format('%.0f', ttl + grace))
return { 1, now, nextGeneration }
`,
})
