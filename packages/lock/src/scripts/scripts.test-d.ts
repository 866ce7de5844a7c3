import type { RedisClient } from '@x/redis-core'
import { describe, expectTypeOf, it } from 'vitest'
import { lockAcquire } from './lock-acquire.lua.js'
import { lockInspect } from './lock-inspect.lua.js'
import { lockTransfer } from './lock-transfer.lua.js'

declare const redis: RedisClient

describe('typed scripts', () => {
  it('check KEYS and ARGV at the call site and type the reply', () => {
    expectTypeOf(lockAcquire.run(redis, ['lock', 'fence'], ['token', 5000])).toEqualTypeOf<Promise<number>>()
    // @ts-expect-error the fencing counter key is missing
    void lockAcquire.run(redis, ['lock'], ['token', 5000])
    // @ts-expect-error ttl and token swapped
    void lockAcquire.run(redis, ['lock', 'fence'], [5000, 'token'])
    // @ts-expect-error the next owner's ttl is missing
    void lockTransfer.run(redis, ['lock', 'fence'], ['from', 'to'])
    expectTypeOf(lockInspect.run(redis, ['lock', 'fence'])).toEqualTypeOf<
      Promise<[pttl: number, fence: number]>
    >()
  })
})
