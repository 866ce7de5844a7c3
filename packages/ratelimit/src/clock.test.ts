import { describe, expect, it } from 'vitest'
import { monotonicMicros, ServerDeadline } from './clock.js'

describe('ServerDeadline', () => {
  it('has no deadline until a reply was seen', () => {
    expect(new ServerDeadline().deadline(monotonicMicros(), 100)).toBe(0)
  })

  it('keeps the largest lower bound of the offset', () => {
    const clock = new ServerDeadline()
    const skew = 5_000_000_000
    // A reply that travelled long gives a smaller bound; the best one wins.
    clock.observe(monotonicMicros() + skew - 40_000)
    clock.observe(monotonicMicros() + skew)
    clock.observe(monotonicMicros() + skew - 90_000)
    const started = monotonicMicros()
    const deadline = clock.deadline(started, 200)
    expect(deadline - (started + skew + 200_000)).toBeLessThanOrEqual(0)
    expect(deadline - (started + skew + 200_000)).toBeGreaterThan(-50_000)
  })

  it('forget() drops every sample', () => {
    const clock = new ServerDeadline()
    clock.observe(monotonicMicros())
    clock.forget()
    expect(clock.deadline(monotonicMicros(), 100)).toBe(0)
  })
})
