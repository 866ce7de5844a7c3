import { defineScript, type Script } from '@x/redis-core'
import { FIXED_WINDOW_LUA } from './algorithms/fixed-window.lua.js'
import { GCRA_LUA } from './algorithms/gcra.lua.js'
import { SLIDING_LOG_LUA } from './algorithms/sliding-log.lua.js'
import { SLIDING_WINDOW_LUA } from './algorithms/sliding-window.lua.js'

/**
 * Reply: `[status, nowMicros, ...per policy (remaining, resetMs, retryAfterMs)]`.
 * status 1 = admitted (or would be, for peek), 0 = rejected, 2 = blocked (then the third entry is
 * the block's remaining milliseconds), 3 = the call ran after its deadline and changed nothing.
 * retryAfterMs -1 means never (cost above capacity).
 */
export type CheckReply = number[]

export const MODE_LIMIT = 0
export const MODE_PEEK = 1
export const MODE_REFUND = 2

/*
 * Every policy of one key is read first, decided, and only then written, so a request that any
 * policy rejects consumes from none of them. Times are server microseconds from TIME, never a
 * client clock. Numbers are written with %.0f because tostring() keeps only 14 digits.
 */
export interface CompiledPolicy {
  /** 1 gcra, 2 sliding window, 3 fixed window, 4 sliding log */
  code: number
  limit: number
  windowUs: number
  capacity: number
}

/** Each algorithm's decide/commit functions and the names the driver calls them by. */
const ALGORITHMS: Record<number, { lua: string; decide: string; commit: string }> = {
  1: { lua: GCRA_LUA, decide: 'gcra_decide', commit: 'gcra_commit' },
  2: { lua: SLIDING_WINDOW_LUA, decide: 'sw_decide', commit: 'sw_commit' },
  3: { lua: FIXED_WINDOW_LUA, decide: 'fw_decide', commit: 'fw_commit' },
  4: { lua: SLIDING_LOG_LUA, decide: 'log_decide', commit: 'log_commit' },
}

/**
 * The check script of one limiter: each algorithm is its own readable pair of Lua functions (see
 * `algorithms/`), and this script holds only the ones its policies use, the policies compiled in as
 * constants, and a short driver that reads every policy, decides, and writes only when all admit.
 * Several policies of different algorithms therefore still cost one call, all or nothing; a call
 * sends only mode, cost and deadline. A limiter has its own SHA.
 */
export function checkScript(policies: readonly CompiledPolicy[]): Script<CheckReply> {
  const constants = policies.map((p) => `${p.code}, ${p.limit}, ${p.windowUs}, ${p.capacity}`).join(', ')
  const used = [...new Set(policies.map((policy) => policy.code))].sort()
  const functions = used.map((code) => ALGORITHMS[code]!.lua).join('')
  const table = used
    .map(
      (code) => `decide[${code}], commit[${code}] = ${ALGORITHMS[code]!.decide}, ${ALGORITHMS[code]!.commit}`,
    )
    .join('\n')
  return defineScript<CheckReply>({
    name: 'ratelimit:check',
    keys: policies.length + 1,
    lua: `${CHECK_HEADER}local P = {${constants}}\n${functions}local decide, commit = {}, {}\n${table}\n${CHECK_DRIVER}`,
  })
}

const CHECK_HEADER = `-- @x/ratelimit check
-- KEYS[1]      block key of the limited key (its value: blocked until, server microseconds)
-- KEYS[2..n+1] state key of each policy (all share the limited key's hash tag)
-- ARGV[1]      mode: 0 limit (consume when every policy admits), 1 peek, 2 refund
-- ARGV[2]      cost (integer >= 1)
-- ARGV[3]      deadline in server microseconds, 0 = none: a late execution changes nothing
-- P            (compiled in) per policy: algorithm (1 gcra, 2 sliding window, 3 fixed window,
--              4 sliding log), limit, window (microseconds), capacity (gcra burst)
`

const CHECK_DRIVER = `local t = redis.call('TIME')
local now = t[1] * 1000000 + t[2]
local deadline = tonumber(ARGV[3])
if deadline > 0 and now > deadline then return {3, now} end
local mode = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local ceil = math.ceil
-- one read for the block marker and every counter (a sorted set reads as false)
local V = redis.call('MGET', unpack(KEYS))
if mode ~= 2 then
  local blocked = tonumber(V[1])
  if blocked and blocked > now then return {2, now, ceil((blocked - now) / 1000)} end
end
local n = #KEYS - 1
local admit = true
local R, S, AR, AS, RT, pending = {}, {}, {}, {}, {}, {}
for i = 1, n do
  local b = 1 + (i - 1) * 4
  R[i], S[i], AR[i], AS[i], RT[i], pending[i] =
    decide[P[b]](KEYS[i + 1], V[i + 1], now, mode, cost, P[b + 1], P[b + 2], P[b + 3])
  if RT[i] ~= 0 then admit = false end
end
local out = {1, now}
if mode == 2 or not admit then
  if not admit then out[1] = 0 end
  for i = 1, n do
    local r = RT[i]
    if r > 0 then r = ceil(r / 1000) end
    out[#out + 1] = R[i]
    out[#out + 1] = ceil(S[i] / 1000)
    out[#out + 1] = r
  end
  return out
end
for i = 1, n do
  if mode == 0 then
    local b = 1 + (i - 1) * 4
    commit[P[b]](KEYS[i + 1], pending[i], now, cost, P[b + 2])
    out[#out + 1] = AR[i]
    out[#out + 1] = ceil(AS[i] / 1000)
  else
    out[#out + 1] = R[i]
    out[#out + 1] = ceil(S[i] / 1000)
  end
  out[#out + 1] = 0
end
return out
`
