import { defineScript, type Script } from '@x/redis-core'
import type { CheckReply, CompiledPolicy } from './check.lua.js'

/**
 * The `limit()` script of a limiter whose policies are all GCRA: straight-line Lua generated for the
 * configuration, each policy's constants inlined, no loop, no dispatch on the algorithm and no
 * temporary tables, so the common path is TIME, one MGET and one SET per policy. Its reply has the
 * layout of the generic check script in limit mode (`[status, nowMicros, ...(remaining, resetMs,
 * retryAfterMs)]`) and it decides exactly as that script does; peek and refund keep using the
 * generic script. Returns undefined for any other configuration (the generic script serves it).
 */
export function gcraLimitScript(policies: readonly CompiledPolicy[]): Script<CheckReply> | undefined {
  if (!policies.every((policy) => policy.code === 1)) return undefined
  const n = policies.length
  const lines: string[] = [
    '-- @x/ratelimit limit (generated for this limiter: every policy is gcra)',
    '-- KEYS[1]      block key of the limited key (its value: blocked until, server microseconds)',
    '-- KEYS[2..n+1] state key of each policy: its theoretical arrival time, server microseconds',
    '-- ARGV[1]      cost (integer >= 1)',
    '-- ARGV[2]      deadline in server microseconds, 0 = none: a late execution changes nothing',
    `-- policies     ${policies.map((p) => `limit ${p.limit} per ${p.windowUs} us, burst ${p.capacity}`).join('; ')}`,
    "local t = redis.call('TIME')",
    'local now = t[1] * 1000000 + t[2]',
    'local deadline = tonumber(ARGV[2])',
    'if deadline > 0 and now > deadline then return {3, now} end',
    'local cost = tonumber(ARGV[1])',
    'local ceil = math.ceil',
    `local v = redis.call('MGET', ${Array.from({ length: n + 1 }, (_, i) => `KEYS[${i + 1}]`).join(', ')})`,
    'local b = tonumber(v[1])',
    'if b and b > now then return {2, now, ceil((b - now) / 1000)} end',
  ]
  // Per policy i: interval I (the same double division as the generic script), tat T, new tat N.
  const admits: string[] = []
  policies.forEach((policy, index) => {
    const i = index + 1
    lines.push(
      `local I${i} = ${policy.windowUs} / ${policy.limit}`,
      `local T${i} = tonumber(v[${i + 1}]) or now`,
      `if T${i} < now then T${i} = now end`,
      `local N${i} = T${i} + cost * I${i}`,
    )
    admits.push(`cost > ${policy.capacity} or N${i} - ${policy.capacity} * I${i} > now`)
  })
  // Rejected by any policy: nothing is written; each policy reports its state without this request.
  lines.push(`if ${admits.join(' or ')} then`, '  local floor = math.floor')
  const rejected: string[] = []
  policies.forEach((policy, index) => {
    const i = index + 1
    const cap = policy.capacity
    lines.push(
      `  local R${i} = 0`,
      `  if cost > ${cap} then R${i} = -1 elseif N${i} - ${cap} * I${i} > now then R${i} = ceil((N${i} - ${cap} * I${i} - now) / 1000) end`,
    )
    rejected.push(
      `math.max(0, floor((now - T${i}) / I${i} + ${cap} + 1e-9)), ceil((T${i} - now) / 1000), R${i}`,
    )
  })
  lines.push(`  return {0, now, ${rejected.join(', ')}}`, 'end')
  // Admitted by all: each key lives until its bucket is full again, and at least one window, so a
  // busy key is overwritten in place instead of expiring and being created again between requests.
  const admitted: string[] = []
  policies.forEach((policy, index) => {
    const i = index + 1
    lines.push(
      `redis.call('SET', KEYS[${i + 1}], string.format('%.0f', ceil(N${i})), 'PX', ceil(math.max(N${i} - now, ${policy.windowUs}) / 1000))`,
    )
    admitted.push(
      `math.floor((now - N${i}) / I${i} + ${policy.capacity} + 1e-9), ceil((N${i} - now) / 1000), 0`,
    )
  })
  lines.push(`return {1, now, ${admitted.join(', ')}}`, '')
  return defineScript<CheckReply>({ name: 'ratelimit:limit-gcra', keys: n + 1, lua: lines.join('\n') })
}
