import { describe, expect, it } from 'vitest'
import { backoff } from './create-redis.js'
import { InvalidArgumentError, TimeoutError } from './errors.js'
import { createEmitter } from './events.js'
import { withTimeout } from './timeout.js'
import { assertName, assertPositive } from './validate.js'

describe('backoff', () => {
  it('grows exponentially, is capped and jittered', () => {
    const delay = backoff(50, 2000)
    for (let attempt = 1; attempt < 30; attempt++) {
      const value = delay(attempt)
      const capped = Math.min(2000, 50 * 2 ** attempt)
      expect(value).toBeGreaterThanOrEqual(capped / 2)
      expect(value).toBeLessThanOrEqual(capped)
    }
    const samples = new Set(Array.from({ length: 20 }, () => delay(10)))
    expect(samples.size).toBeGreaterThan(1)
  })
})

describe('withTimeout', () => {
  it('rejects with TimeoutError when the promise is late and keeps no timer alive', async () => {
    const never = new Promise(() => {})
    await expect(withTimeout(never, 20, 'the thing')).rejects.toThrow(TimeoutError)
    await expect(withTimeout(never, 20, 'the thing')).rejects.toThrow(/the thing did not finish within 20 ms/)
  })

  it('passes values and errors through', async () => {
    await expect(withTimeout(Promise.resolve(1), 1000)).resolves.toBe(1)
    await expect(withTimeout(Promise.reject(new Error('x')), 1000)).rejects.toThrow('x')
  })
})

describe('validation', () => {
  it.each([Number.NaN, Number.POSITIVE_INFINITY, -1, 0, '5', undefined])(
    'assertPositive rejects %o',
    (value) => {
      expect(() => assertPositive('ttl', value)).toThrow(InvalidArgumentError)
    },
  )

  it('assertPositive accepts zero when allowed and checks integers', () => {
    expect(assertPositive('n', 0, { allowZero: true })).toBe(0)
    expect(() => assertPositive('n', 1.5, { integer: true })).toThrow(/integer/)
  })

  it('assertName rejects empty, control characters and oversized names', () => {
    expect(() => assertName('key', '')).toThrow(InvalidArgumentError)
    expect(() => assertName('key', 'a\rb')).toThrow(/control/)
    expect(() => assertName('key', 'x'.repeat(10), 5)).toThrow(/longer/)
    expect(assertName('key', 'ok')).toBe('ok')
  })
})

describe('createEmitter', () => {
  it('delivers typed events, removes listeners, and survives a listener that throws', () => {
    const reported: unknown[] = []
    const emitter = createEmitter<{ hit: { key: string } }>((error) => reported.push(error))
    const seen: string[] = []
    emitter.on('hit', () => {
      throw new Error('bad listener')
    })
    const off = emitter.on('hit', ({ key }) => seen.push(key))
    expect(emitter.has('hit')).toBe(true)
    emitter.emit('hit', { key: 'a' })
    off()
    emitter.emit('hit', { key: 'b' })
    expect(seen).toEqual(['a'])
    expect(reported).toHaveLength(2)
  })
})
