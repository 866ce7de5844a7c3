import { createRedis } from '@x/redis-core'
import { targets, useRedis } from '@x/testkit/vitest'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Algorithm } from './policy.js'
import { createRateLimiter } from './rate-limiter.js'

describe.each(targets())('$name', (target) => {
  const first = useRedis(target, createRedis)
  const second = useRedis(target, createRedis)
  let n = 0

  afterEach(() => {
    vi.restoreAllMocks()
  })

  describe.each(['gcra', 'sliding-window', 'fixed-window', 'sliding-log'] as Algorithm[])(
    '%s',
    (algorithm) => {
      it('two clients whose clocks disagree by ±500 ms get the same decisions', async () => {
        const realNow = Date.now.bind(Date)
        let skew = 0
        vi.spyOn(Date, 'now').mockImplementation(() => realNow() + skew)
        const options = { prefix: `${target.prefix}:c${n++}`, algorithm, limit: 4, windowMs: 60_000 }
        const ahead = createRateLimiter({ ...options, redis: first })
        const behind = createRateLimiter({ ...options, redis: second })
        const decisions: Array<[boolean, boolean]> = []
        const resets: number[] = []
        for (let i = 0; i < 6; i++) {
          // Each client limits its own key, in lockstep, and both share one more key.
          skew = 500
          const a = await ahead.limit('own-a')
          skew = -500
          const b = await behind.limit('own-b')
          decisions.push([a.allowed, b.allowed])
          resets.push(a.resetAt - b.resetAt)
          skew = i % 2 === 0 ? 500 : -500
          await (i % 2 === 0 ? ahead : behind).limit('shared')
        }
        expect(decisions).toEqual([
          [true, true],
          [true, true],
          [true, true],
          [true, true],
          [false, false],
          [false, false],
        ])
        // A limiter on the client clocks would report resets 1000 ms apart.
        for (const difference of resets) expect(Math.abs(difference)).toBeLessThan(250)
        skew = 500
        const viaAhead = await ahead.peek('shared')
        skew = -500
        const viaBehind = await behind.peek('shared')
        expect(viaAhead.remaining).toBe(0)
        expect(viaBehind.remaining).toBe(0)
        expect(Math.abs(viaAhead.retryAfterMs - viaBehind.retryAfterMs)).toBeLessThan(250)
      })
    },
  )
})
