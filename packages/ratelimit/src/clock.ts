/** Microseconds since the epoch from the monotonic clock: immune to wall-clock steps and to mocked Date.now. */
export function monotonicMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000)
}

/** Offsets are re-measured at least this often, so a stepped server clock is followed. */
const OFFSET_TTL_US = 10_000_000

/**
 * Translates "this call gives up after timeoutMs" into a deadline on the Redis server clock, so a
 * script that runs late (a paused server resuming, a command resent after a reconnect) can see
 * that nobody waits for it and change nothing. The offset (server clock minus local monotonic
 * clock) is measured from replies; it includes the one-way latency, which only makes the deadline
 * later, never earlier. No decision compares two clients' clocks.
 */
export class ServerDeadline {
  private offsetUs = 0
  private measuredAt = Number.NEGATIVE_INFINITY

  /** Server-clock microseconds after which a call started at `startedUs` is abandoned; 0 until measured. */
  deadline(startedUs: number, timeoutMs: number): number {
    if (this.measuredAt === Number.NEGATIVE_INFINITY) return 0
    return Math.ceil(startedUs + this.offsetUs + timeoutMs * 1000)
  }

  /** Records a reply's server time for a call started at `startedUs`. `force` re-bases the offset. */
  observe(serverUs: number, startedUs: number, force = false): void {
    const received = monotonicMicros()
    const sample = serverUs - startedUs
    if (force || sample < this.offsetUs || received - this.measuredAt > OFFSET_TTL_US) {
      this.offsetUs = sample
      this.measuredAt = received
    }
  }
}
