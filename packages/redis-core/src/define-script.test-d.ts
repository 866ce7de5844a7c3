import type { Redis } from 'ioredis'
import { describe, expectTypeOf, it } from 'vitest'
import { defineScript, type Script } from './define-script.js'
import { createRedisCaller } from './redis-caller.js'

declare const redis: Redis

const fill = defineScript<{
  keys: [entry: string]
  args: [generation: number, value: string]
  result: 0 | 1
}>({
  name: 'cache:fill',
  keys: 1,
  lua: 'return 1',
})
const noArgs = defineScript<{ keys: [a: string, b: string]; args: []; result: string | null }>({
  name: 'test:no-args',
  keys: 2,
  lua: 'return false',
})
const untyped = defineScript<number>({ name: 'test:untyped', keys: 1, lua: 'return 1' })

describe('typed scripts', () => {
  it('checks KEYS and ARGV tuples at the call site and types the result', () => {
    const caller = createRedisCaller(redis)
    expectTypeOf(caller.script(fill, ['k'], [1, 'v'])).toEqualTypeOf<Promise<0 | 1>>()
    expectTypeOf(fill.run(redis, ['k'], [1, 'v'])).toEqualTypeOf<Promise<0 | 1>>()
    // @ts-expect-error two keys for a one-key script
    caller.script(fill, ['k', 'extra'], [1, 'v'])
    // @ts-expect-error ARGV in the wrong order
    caller.script(fill, ['k'], ['v', 1])
    // @ts-expect-error ARGV is required
    caller.script(fill, ['k'])
    expectTypeOf(caller.script(noArgs, ['a', 'b'])).toEqualTypeOf<Promise<string | null>>()
    expectTypeOf(
      caller.scriptThen(
        fill,
        ['k'],
        [1, 'v'],
        (reply) => reply === 1,
        () => false,
      ),
    ).toEqualTypeOf<Promise<boolean>>()
  })

  it('requires `keys` to match the KEYS tuple', () => {
    defineScript<{ keys: [entry: string]; args: []; result: 1 }>({
      name: 'x',
      // @ts-expect-error the tuple has one key
      keys: 2,
      lua: 'return 1',
    })
  })

  it('keeps the result-only form compiling with untyped KEYS and ARGV', () => {
    const caller = createRedisCaller(redis)
    expectTypeOf(untyped).toEqualTypeOf<Script<number>>()
    expectTypeOf(caller.script(untyped, ['k'], [1, 'two', Buffer.from('3')])).toEqualTypeOf<Promise<number>>()
    expectTypeOf(caller.script(untyped, ['k'])).toEqualTypeOf<Promise<number>>()
    expectTypeOf(untyped.run(redis, ['k'])).toEqualTypeOf<Promise<number>>()
  })
})
