import { describe, expect, it } from 'vitest'
import { backoffDelay } from './backoff.js'

const low = () => 0
const high = () => 1

describe('backoffDelay', () => {
  it('doubles from initialMs and is capped at maxMs', () => {
    const options = { initialMs: 25, maxMs: 1000, jitter: 'none' } as const
    expect([0, 1, 2, 3, 4, 5, 6].map((attempt) => backoffDelay(attempt, options))).toEqual([
      25, 50, 100, 200, 400, 800, 1000,
    ])
    expect(backoffDelay(10_000, options)).toBe(1000)
    expect(backoffDelay(-3, options)).toBe(25)
  })

  it('full jitter draws in [0, bound]', () => {
    const options = { initialMs: 25, maxMs: 1000, jitter: 'full' } as const
    expect(backoffDelay(3, options, low)).toBe(0)
    expect(backoffDelay(3, options, high)).toBe(200)
    expect(backoffDelay(3, options, () => 0.5)).toBe(100)
  })

  it('equal jitter draws in [bound / 2, bound]', () => {
    const options = { initialMs: 50, maxMs: 2000, jitter: 'equal' } as const
    expect(backoffDelay(2, options, low)).toBe(100)
    expect(backoffDelay(2, options, high)).toBe(200)
    expect(backoffDelay(20, options, low)).toBe(1000)
  })

  it('draws different delays with the default random source', () => {
    const options = { initialMs: 100, maxMs: 10_000, jitter: 'full' } as const
    const samples = new Set(Array.from({ length: 50 }, () => backoffDelay(6, options)))
    expect(samples.size).toBeGreaterThan(1)
    for (const sample of samples) expect(sample).toBeLessThanOrEqual(6400)
  })
})
