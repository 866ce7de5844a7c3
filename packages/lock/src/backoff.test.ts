import { describe, expect, it } from 'vitest'
import { retryDelay } from './backoff.js'

const exact = { initialMs: 10, maxMs: 500, jitter: 'none' } as const
const full = { ...exact, jitter: 'full' } as const

describe('retryDelay', () => {
  it('doubles the bound with every attempt up to maxMs', () => {
    expect([0, 1, 2, 3, 10].map((attempt) => retryDelay(attempt, exact))).toEqual([10, 20, 40, 80, 500])
  })

  it('draws full jitter between 0 and the bound', () => {
    expect(retryDelay(3, full, () => 0)).toBe(0)
    expect(retryDelay(3, full, () => 0.5)).toBe(40)
    for (let attempt = 0; attempt < 50; attempt++) {
      const delay = retryDelay(attempt, full)
      expect(delay).toBeGreaterThanOrEqual(0)
      expect(delay).toBeLessThanOrEqual(500)
    }
  })
})
