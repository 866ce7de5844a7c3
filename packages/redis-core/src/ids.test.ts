import { describe, expect, it } from 'vitest'
import { InvalidArgumentError } from './errors.js'
import { randomId } from './ids.js'

describe('randomId', () => {
  it('makes URL-safe ids of the requested size, 21 by default', () => {
    expect(randomId()).toMatch(/^[A-Za-z0-9_-]{21}$/)
    for (const size of [10, 16, 43]) expect(randomId(size)).toMatch(new RegExp(`^[A-Za-z0-9_-]{${size}}$`))
  })

  it('does not repeat across many draws and uses the whole alphabet', () => {
    const ids = Array.from({ length: 10_000 }, () => randomId(10))
    expect(new Set(ids).size).toBe(ids.length)
    // 100,000 characters over 64 symbols: every symbol shows up unless the source is broken.
    expect(new Set(ids.join('')).size).toBe(64)
  })

  it.each([0, -1, 1.5, Number.NaN, 1025])('rejects size %o', (size) => {
    expect(() => randomId(size)).toThrow(InvalidArgumentError)
  })
})
