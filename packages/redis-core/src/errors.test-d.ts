import { describe, expectTypeOf, it } from 'vitest'
import { defineError, InvalidArgumentError, RedisUnavailableError, TimeoutError, XError } from './errors.js'

class LockTimeoutError extends defineError<'E_LOCK_TIMEOUT', { resource: string; waitedMs: number }>(
  'E_LOCK_TIMEOUT',
  'LockTimeoutError',
) {}
class PlainError extends defineError('E_PLAIN', 'PlainError') {}

describe('defineError types', () => {
  it('isInstance narrows to the subclass, with its fields', () => {
    const error: unknown = new Error('x')
    if (LockTimeoutError.isInstance(error)) {
      expectTypeOf(error).toEqualTypeOf<LockTimeoutError>()
      expectTypeOf(error.resource).toEqualTypeOf<string>()
      expectTypeOf(error.waitedMs).toEqualTypeOf<number>()
      expectTypeOf(error.code).toEqualTypeOf<'E_LOCK_TIMEOUT'>()
    }
    if (TimeoutError.isInstance(error)) {
      expectTypeOf(error).toEqualTypeOf<TimeoutError>()
      expectTypeOf(error.timeoutMs).toEqualTypeOf<number | undefined>()
    }
    if (RedisUnavailableError.isInstance(error))
      expectTypeOf(error.address).toEqualTypeOf<string | undefined>()
    if (XError.isInstance(error)) expectTypeOf(error).toEqualTypeOf<XError>()
  })

  it('requires the fields when some are required, and nothing when there are none', () => {
    new LockTimeoutError('busy', { resource: 'r', waitedMs: 5 })
    // @ts-expect-error options with the fields are required
    new LockTimeoutError('busy')
    // @ts-expect-error waitedMs is missing
    new LockTimeoutError('busy', { resource: 'r' })
    new PlainError('plain')
    new PlainError('plain', { cause: new Error('c') })
    new InvalidArgumentError('bad')
    new TimeoutError('slow', { timeoutMs: 10, cause: 1 })
  })

  it('fields are readonly', () => {
    const error = new LockTimeoutError('busy', { resource: 'r', waitedMs: 5 })
    // @ts-expect-error readonly
    error.waitedMs = 1
    expectTypeOf(LockTimeoutError.code).toEqualTypeOf<'E_LOCK_TIMEOUT'>()
  })
})
