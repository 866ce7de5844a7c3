import { targets, useRedis } from '@x/testkit/vitest'
import { describe, expect, it } from 'vitest'
import { createServerClock, monotonicMicros } from './server-clock.js'

/** A clock whose local time the test moves by hand (microseconds). */
function handClock() {
  const local = { us: 1_000_000_000 }
  const clock = createServerClock({ localMicros: () => local.us })
  return { local, clock }
}

describe('createServerClock', () => {
  it('has no deadline and no server time until a reply was observed', () => {
    const { clock } = handClock()
    expect(clock.measured).toBe(false)
    expect(clock.deadline(clock.localMicros(), 100)).toBe(0)
    expect(clock.now()).toBeUndefined()
  })

  it('keeps the largest lower bound of the offset', () => {
    const { local, clock } = handClock()
    const skew = 5_000_000_000
    // Replies that travelled long give smaller bounds; the best one wins.
    clock.observe(local.us + skew - 40_000)
    local.us += 1000
    clock.observe(local.us + skew)
    local.us += 1000
    clock.observe(local.us + skew - 90_000)
    expect(clock.deadline(local.us, 200)).toBe(local.us + skew + 200_000)
    expect(clock.now()).toBe((local.us + skew) / 1000)
    local.us += 5_000
    expect(clock.now()).toBe((local.us + skew) / 1000)
  })

  it('follows a server clock that stepped back within two buckets', () => {
    const { local, clock } = handClock()
    clock.observe(local.us + 1_000_000)
    local.us += 10_000_001
    clock.observe(local.us) // offset 0 now: the server clock went back a second
    expect(clock.deadline(local.us, 0)).toBe(local.us + 1_000_000)
    local.us += 10_000_001
    clock.observe(local.us)
    expect(clock.deadline(local.us, 0)).toBe(local.us)
  })

  it('forget() drops every sample', () => {
    const { local, clock } = handClock()
    clock.observe(local.us)
    expect(clock.measured).toBe(true)
    clock.forget()
    expect(clock.measured).toBe(false)
    expect(clock.deadline(local.us, 100)).toBe(0)
  })

  const [server] = targets()
  const redis = useRedis(server as NonNullable<typeof server>)

  it('estimates a real server clock within the round trip that measured it', async () => {
    const clock = createServerClock()
    const before = monotonicMicros()
    const [seconds, micros] = await redis.time()
    clock.observe(Number(seconds) * 1_000_000 + Number(micros))
    // An estimate is a lower bound: made before the server read its clock, it cannot be later.
    const earlier = clock.now() as number
    const [seconds2, micros2] = await redis.time()
    const later = clock.now() as number
    const elapsedMs = (monotonicMicros() - before) / 1000
    const serverMs = Number(seconds2) * 1000 + Number(micros2) / 1000
    // Made before the second read, the estimate is not later than it — up to what the two clocks can
    // disagree on within this test: their resolution (1 ms) and the server's cached command time,
    // which may lag by the time this test took on a loaded machine. Nothing here depends on speed.
    expect(earlier).toBeLessThanOrEqual(serverMs + elapsedMs + 1)
    // It is early by at most the first round trip, which is within everything measured since.
    expect(serverMs - later).toBeLessThanOrEqual(elapsedMs + 1)
  })
})
