/** Microseconds since the epoch from the monotonic clock: immune to wall-clock steps and to mocked Date.now. */
export function monotonicMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000)
}

/**
 * The deadline sent while the server clock has not been measured yet: a server time long past, so
 * the script changes nothing and only answers its clock (status 3), and the caller sends the check
 * again with a real deadline. Costs one extra round trip, once per limiter; without it a first check
 * that met a paused server would be applied when the server resumes, long after it was answered.
 */
export const PROBE_DEADLINE = 1

/** Offset samples are kept in two buckets of this length, so a stepped server clock is followed. */
const BUCKET_US = 10_000_000

/**
 * Translates "this call gives up after timeoutMs" into a deadline on the Redis server clock, so a
 * script that runs late (a paused server resuming, a command resent after a reconnect) can see
 * that nobody waits for it and change nothing.
 *
 * Each reply gives `serverTime - localArrivalTime`, a lower bound of the true offset between the
 * server clock and the local monotonic clock (the server ran the script before the reply arrived).
 * The largest recent lower bound is the best estimate; it errs only toward an earlier deadline, by
 * about one reply's travel time. No decision ever compares two clients' clocks.
 */
export class ServerDeadline {
  private current = Number.NEGATIVE_INFINITY
  private previous = Number.NEGATIVE_INFINITY
  private bucketStart = Number.NEGATIVE_INFINITY

  /** Server-clock microseconds after which a call started at `startedUs` is abandoned; 0 until measured. */
  deadline(startedUs: number, timeoutMs: number): number {
    const offset = Math.max(this.current, this.previous)
    if (offset === Number.NEGATIVE_INFINITY) return 0
    return Math.ceil(startedUs + offset + timeoutMs * 1000)
  }

  /** Records the server time of a reply that just arrived. */
  observe(serverUs: number): void {
    const arrived = monotonicMicros()
    if (arrived - this.bucketStart > BUCKET_US) {
      this.previous = this.current
      this.current = Number.NEGATIVE_INFINITY
      this.bucketStart = arrived
    }
    const sample = serverUs - arrived
    if (sample > this.current) this.current = sample
  }

  /** Forgets every sample (the server clock stepped): the next call runs without a deadline. */
  forget(): void {
    this.current = Number.NEGATIVE_INFINITY
    this.previous = Number.NEGATIVE_INFINITY
  }
}
