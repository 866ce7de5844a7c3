// Redis-side cost of script variants: usec_per_call of EVALSHA for each, same keys pattern.
import { startRedis } from '@x/testkit'
import { Redis } from 'ioredis'
import { gcraLimitScript } from '../src/limit.lua.js'

const policy = { code: 1, limit: 1_000_000_000, windowUs: 3_600_000_000, capacity: 1_000_000_000 }
const server = await startRedis()
const redis = new Redis(server.url)
const variants: Record<string, [number, string]> = {
  rlf: [
    1,
    `local ok = redis.call('set', KEYS[1], 0, 'EX', ARGV[2], 'NX')
local consumed = redis.call('incrby', KEYS[1], ARGV[1])
local ttl = redis.call('pttl', KEYS[1])
if ttl == -1 then redis.call('expire', KEYS[1], ARGV[2]) ttl = 1000 * ARGV[2] end
return {consumed, ttl}`,
  ],
  oursNum: [2, gcraLimitScript([policy])!.lua.replace("string.format('%.0f', ceil(N1))", 'ceil(N1)')],
  oursNumRet: [
    2,
    gcraLimitScript([policy])!
      .lua.replace("string.format('%.0f', ceil(N1))", 'ceil(N1)')
      .replace(/return \{1, now, .*\}/, 'return {1, now, 5}'),
  ],
  floor: [
    2,
    `local t = redis.call('TIME') local v = redis.call('MGET', KEYS[1], KEYS[2]) redis.call('SET', KEYS[2], '1764000000000000', 'PX', 3600000) return 1`,
  ],
  ours: [2, gcraLimitScript([policy])!.lua],
}
const best: Record<string, number> = {}
for (let round = 0; round < 15; round++) {
  const out: string[] = []
  for (const [name, [keys, lua]] of Object.entries(variants)) {
    const sha = (await redis.script('LOAD', lua)) as string
    if (name.startsWith('ours')) console.error(name, lua.split('\n').slice(-3).join(' / '))
    await redis.config('RESETSTAT')
    for (let batch = 0; batch < 40; batch++) {
      const p = redis.pipeline()
      for (let i = 0; i < 500; i++) {
        const k = `{k${i}}`
        if (keys === 1) p.evalsha(sha, 1, `${name}:${k}`, 1, 3600)
        else if (name === 'generic') p.evalsha(sha, 2, `${name}:${k}:!`, `${name}:${k}:g`, 0, 1, 0)
        else p.evalsha(sha, 2, `${name}:${k}:!`, `${name}:${k}:g`, 1, 0)
      }
      await p.exec()
    }
    const stats = (await redis.info('commandstats')) as string
    const usec = Number(/cmdstat_evalsha:.*usec_per_call=([\d.]+)/.exec(stats)![1])
    best[name] = Math.min(best[name] ?? Infinity, usec)
    out.push(`${name} ${usec}`)
  }
  console.log(out.join(' | '))
}
console.log('min', JSON.stringify(best))
redis.disconnect()
await server.stop()
