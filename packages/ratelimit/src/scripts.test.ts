import { createHash } from 'node:crypto'
import { createRedis } from '@x/redis-core'
import { targets, useRedis } from '@x/testkit/vitest'
import { describe, expect, it } from 'vitest'
import { blockScript } from './block.lua.js'
import { checkScript } from './check.lua.js'
import { acquireScript, countScript, extendScript } from './concurrency.lua.js'
import { gcraLimitScript } from './limit.lua.js'

// A changed script is a new SHA on every server: these pins make an accidental change visible in
// review. The check scripts are generated per limiter configuration; these pin representative ones.
const one = [{ code: 1, limit: 10, windowUs: 1_000_000, capacity: 10 }]
const mixed = [
  { code: 1, limit: 10, windowUs: 1_000_000, capacity: 20 },
  { code: 2, limit: 100, windowUs: 60_000_000, capacity: 100 },
  { code: 3, limit: 1000, windowUs: 3_600_000_000, capacity: 1000 },
  { code: 4, limit: 5, windowUs: 86_400_000_000, capacity: 5 },
]
const scripts = {
  'ratelimit:check': checkScript(mixed),
  'ratelimit:limit-gcra': gcraLimitScript(one)!,
  'ratelimit:block': blockScript,
  'ratelimit:acquire': acquireScript,
  'ratelimit:extend': extendScript,
  'ratelimit:active': countScript,
}

describe('scripts', () => {
  it('are named ratelimit:<operation> and pinned by SHA', () => {
    expect(Object.fromEntries(Object.entries(scripts).map(([name, script]) => [name, script.sha]))).toEqual({
      'ratelimit:check': 'eea29a26111abcb93d732c11b3ac16fdf5a927de',
      'ratelimit:limit-gcra': 'ee3a06dbe23065d01c39a6b403c730580c76e605',
      'ratelimit:block': 'da880a6494bb3bd0528dd4edf59d9a4aa7e94b4a',
      'ratelimit:acquire': 'e7f66a0905d9024763cee3bc8619bd02c597bd8a',
      'ratelimit:extend': '2b2639336464c010d92138dd07bb29c99e8266bb',
      'ratelimit:active': '544f84da137db6d0a4dbfa7f138be72c24c708f1',
    })
    for (const [name, script] of Object.entries(scripts)) {
      expect(script.name).toBe(name)
      expect(script.sha).toBe(createHash('sha1').update(script.lua).digest('hex'))
      // Every script starts with a comment that names it and lists its KEYS.
      expect(script.lua).toMatch(/^-- @x\/ratelimit [\s\S]*-- KEYS\[1\]/)
    }
  })
})

describe.each(targets())('$name', (target) => {
  const redis = useRedis(target, createRedis)

  it('each pinned SHA is the one the server computes', async () => {
    for (const script of Object.values(scripts)) {
      expect(await redis.script('LOAD', script.lua)).toBe(script.sha)
    }
  })
})
