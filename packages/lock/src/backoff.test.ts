import { describe, expect, it } from 'vitest'
import { retryDelay } from './backoff.js'

const backoff = { initialMs: 10, maxMs: 500 }

describe('retryDelay', () => {
  it('doubles the bound with every attempt up to maxMs', () => {
    expect([0, 1, 2, 3, 10].map((attempt) => retryDelay(attempt, backoff, 'none'))).toEqual([
      10, 20, 40, 80, 500,
    ])
  })

  it('draws full jitter between 0 and the bound', () => {
    expect(retryDelay(3, backoff, 'full', () => 0)).toBe(0)
    expect(retryDelay(3, backoff, 'full', () => 0.5)).toBe(40)
    for (let attempt = 0; attempt < 50; attempt++) {
      const delay = retryDelay(attempt, backoff, 'full')
      expect(delay).toBeGreaterThanOrEqual(0)
      expect(delay).toBeLessThanOrEqual(500)
    }
  })
})
