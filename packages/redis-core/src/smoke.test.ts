import { targets } from '@x/testkit/vitest'
import { describe, expect, it } from 'vitest'
import { createRedis, defineScript } from '../src/index.js'

describe.each(targets())('$name', (target) => {
  it('runs a script', async () => {
    const redis = createRedis(target.connection)
    const script = defineScript<number>({ name: 't', keys: 1, lua: "return redis.call('INCR', KEYS[1])" })
    expect(await script.run(redis, [`${target.prefix}:{a}:x`])).toBe(1)
    redis.disconnect()
  })
})
