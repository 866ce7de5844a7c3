/** Microseconds since the epoch from the monotonic clock: immune to wall-clock steps and to mocked Date.now. */
export function monotonicMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000)
}
