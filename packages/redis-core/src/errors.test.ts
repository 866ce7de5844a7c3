import { describe, expect, it } from 'vitest'
import {
  DecodeError,
  defineError,
  InvalidArgumentError,
  RedisUnavailableError,
  TimeoutError,
  XError,
} from './errors.js'
import { toRedisError } from './redis-error.js'

describe('errors', () => {
  it('carries a stable code, a name and the cause', () => {
    const cause = new Error('low level')
    const error = new TimeoutError('slow', { cause })
    expect(error.code).toBe('E_TIMEOUT')
    expect(error.name).toBe('TimeoutError')
    expect(error.cause).toBe(cause)
    expect(error).toBeInstanceOf(XError)
    expect(error).toBeInstanceOf(Error)
  })

  it('recognises errors from another copy of the package through the Symbol.for brand', () => {
    // A second install has its own classes; only the global symbol and the code are shared.
    const foreign = Object.assign(new Error('x'), {
      code: 'E_TIMEOUT',
      [Symbol.for('@x/redis-core/error')]: true,
    })
    expect(XError.isInstance(foreign)).toBe(true)
    expect(TimeoutError.isInstance(foreign)).toBe(true)
    expect(RedisUnavailableError.isInstance(foreign)).toBe(false)
    expect(XError.isInstance(new Error('plain'))).toBe(false)
    expect(XError.isInstance(null)).toBe(false)
    expect(XError.isInstance('E_TIMEOUT')).toBe(false)
  })

  it('lets packages define their own codes', () => {
    class LockTimeoutError extends defineError('E_LOCK_TIMEOUT', 'LockTimeoutError') {}
    const error = new LockTimeoutError('busy')
    expect(error.code).toBe('E_LOCK_TIMEOUT')
    expect(LockTimeoutError.isInstance(error)).toBe(true)
    expect(InvalidArgumentError.isInstance(error)).toBe(false)
    expect(DecodeError.isInstance(error)).toBe(false)
  })

  it('maps ioredis connection errors to RedisUnavailableError and timeouts to TimeoutError', () => {
    expect(toRedisError(new Error('Connection is closed.'))).toBeInstanceOf(RedisUnavailableError)
    expect(
      toRedisError(new Error("Stream isn't writeable and enableOfflineQueue options is false")),
    ).toBeInstanceOf(RedisUnavailableError)
    expect(toRedisError(new Error('connect ECONNREFUSED 127.0.0.1:1'))).toBeInstanceOf(RedisUnavailableError)
    expect(toRedisError(new Error('Command timed out'))).toBeInstanceOf(TimeoutError)
    const wrongType = new Error('WRONGTYPE Operation against a key holding the wrong kind of value')
    expect(toRedisError(wrongType)).toBe(wrongType)
  })
})

describe('defineError fields', () => {
  class LockTimeoutError extends defineError<'E_LOCK_TIMEOUT', { resource: string; waitedMs: number }>(
    'E_LOCK_TIMEOUT',
    'LockTimeoutError',
  ) {}

  it('stores the fields as readonly own properties and keeps cause apart', () => {
    const cause = new Error('low')
    const error = new LockTimeoutError('busy', { resource: 'orders', waitedMs: 250, cause })
    expect(error.resource).toBe('orders')
    expect(error.waitedMs).toBe(250)
    expect(error.cause).toBe(cause)
    expect(Object.keys(error)).not.toContain('cause')
    expect(() => {
      ;(error as { waitedMs: number }).waitedMs = 1
    }).toThrow(TypeError)
    expect(error.name).toBe('LockTimeoutError')
    expect(error.stack).toContain('LockTimeoutError')
  })

  it('isInstance on a subclass matches by code across copies, and the base XError check still holds', () => {
    const error = new LockTimeoutError('busy', { resource: 'r', waitedMs: 1 })
    expect(LockTimeoutError.isInstance(error)).toBe(true)
    expect(XError.isInstance(error)).toBe(true)
    expect(TimeoutError.isInstance(error)).toBe(false)
    const foreign = Object.assign(new Error('x'), {
      code: 'E_LOCK_TIMEOUT',
      resource: 'r',
      [Symbol.for('@x/redis-core/error')]: true,
    })
    expect(LockTimeoutError.isInstance(foreign)).toBe(true)
  })

  it("gives core's errors their facts", () => {
    expect(new TimeoutError('slow', { timeoutMs: 1000 }).timeoutMs).toBe(1000)
    expect(new RedisUnavailableError('down', { address: '127.0.0.1:7000' }).address).toBe('127.0.0.1:7000')
  })
})
