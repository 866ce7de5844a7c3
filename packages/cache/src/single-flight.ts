import type { CacheState } from './state.js'
import type { CacheTraceContext } from './tracing.js'

/** A fetch others may join: only while the key is as it was when the fetch started. */
export interface Flight {
  promise: Promise<unknown>
  /** Generation the fetch's read saw ('' for a bypass). */
  generation: string
  /** `invalidationSeq` when it started. */
  seq: number
}

/** A finished fetch and the read epoch at which it finished. */
export interface FinishedFlight extends Flight {
  epoch: number
}

/**
 * In-process single-flight for the expensive part (fetch + write). Hits never touch these maps:
 * a Map insert + delete per call would cost more than the rest of a hit. A caller whose read was
 * sent before another caller's fetch completed takes that result instead of fetching again
 * (`completed` remembers it for one Redis timeout), so N concurrent cold calls fetch once.
 */
export function joinOrStart<T>(
  s: CacheState,
  full: string,
  readEpoch: number,
  generation: string,
  trace: CacheTraceContext | undefined,
  start: () => Promise<T>,
): Promise<T> {
  // Join only a fetch that saw the same generation and no invalidation since it started: a caller
  // that observed a delete, update, set or tag invalidation must not get a result read before it.
  const joinable = (flight: Flight) => flight.generation === generation && flight.seq === s.invalidationSeq
  const running = s.inflight.get(full)
  if (running !== undefined && joinable(running)) {
    if (trace) trace.outcome = 'coalesced'
    return running.promise as Promise<T>
  }
  const done = s.completed.get(full)
  if (done !== undefined) {
    if (done.epoch >= readEpoch && joinable(done)) {
      if (trace) trace.outcome = 'coalesced'
      return done.promise as Promise<T>
    }
    s.completed.delete(full)
  }
  const flight: Flight = { promise: start(), generation, seq: s.invalidationSeq }
  const promise = flight.promise as Promise<T>
  s.inflight.set(full, flight)
  const finish = () => {
    if (s.inflight.get(full) === flight) s.inflight.delete(full)
    const marker: FinishedFlight = { ...flight, epoch: s.readEpoch }
    s.completed.set(full, marker)
    // A read still in flight was sent before this finished; none can be older than one Redis timeout.
    const timer = setTimeout(() => {
      if (s.completed.get(full) === marker) s.completed.delete(full)
    }, s.caller.timeoutMs + 100)
    timer.unref?.()
  }
  promise.then(finish, finish)
  return promise
}
