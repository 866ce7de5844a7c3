/** Microseconds since the epoch from the monotonic clock: immune to wall-clock steps and to a mocked Date.now. */
export function monotonicMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000)
}

export interface ServerClockOptions {
  /**
   * Samples are kept in two buckets of this length, so a server clock that stepped is followed
   * within two buckets.
   * @default 10_000
   */
  bucketMs?: number
  /**
   * The local clock in microseconds; tests pass their own.
   * @default monotonicMicros
   */
  localMicros?: () => number
}

export interface ServerClock {
  /** Records the server time (microseconds, e.g. from `TIME` inside a script) of a reply that just arrived. */
  observe(serverMicros: number): void
  /**
   * Server-clock microseconds after which a call started at `startedMicros` (local clock) that
   * gives up after `timeoutMs` has nobody waiting for it; 0 until a reply was observed.
   */
  deadline(startedMicros: number, timeoutMs: number): number
  /** The estimated server time in milliseconds, without a round trip; `undefined` until a reply was observed. */
  now(): number | undefined
  /** True once a reply was observed (and not forgotten since). */
  readonly measured: boolean
  /** Forgets every sample (the server clock stepped); `deadline` answers 0 until the next reply. */
  forget(): void
  /** The local clock this estimate is relative to (microseconds). */
  localMicros(): number
}

/**
 * Estimates the offset between the Redis server clock and the local monotonic clock, so that a
 * script can get a deadline on the server clock (and see, when it runs late, that nobody waits
 * for it) and a package can know the server time without asking.
 *
 * Each reply gives `serverTime - localArrivalTime`, a lower bound of the true offset (the server
 * read its clock before the reply arrived). The largest recent lower bound is the best estimate;
 * it errs only toward an earlier time, by about one reply's travel time. Keeping the largest of
 * two time buckets lets the estimate follow a server clock that stepped back.
 */
export function createServerClock(options: ServerClockOptions = {}): ServerClock {
  const bucketUs = (options.bucketMs ?? 10_000) * 1000
  const localMicros = options.localMicros ?? monotonicMicros
  let current = Number.NEGATIVE_INFINITY
  let previous = Number.NEGATIVE_INFINITY
  let bucketStart = Number.NEGATIVE_INFINITY

  const offset = () => Math.max(current, previous)

  return {
    observe(serverMicros) {
      const arrived = localMicros()
      if (arrived - bucketStart > bucketUs) {
        previous = current
        current = Number.NEGATIVE_INFINITY
        bucketStart = arrived
      }
      const sample = serverMicros - arrived
      if (sample > current) current = sample
    },
    deadline(startedMicros, timeoutMs) {
      const best = offset()
      if (best === Number.NEGATIVE_INFINITY) return 0
      return Math.ceil(startedMicros + best + timeoutMs * 1000)
    },
    now() {
      const best = offset()
      if (best === Number.NEGATIVE_INFINITY) return undefined
      return (localMicros() + best) / 1000
    },
    get measured() {
      return offset() !== Number.NEGATIVE_INFINITY
    },
    forget() {
      current = Number.NEGATIVE_INFINITY
      previous = Number.NEGATIVE_INFINITY
    },
    localMicros,
  }
}
