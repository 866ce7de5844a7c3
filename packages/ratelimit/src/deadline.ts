import type { ServerClock } from '@x/redis-core'

/**
 * The deadline sent while the server clock has not been measured yet: a server time long past, so
 * the script changes nothing and only answers its clock (status 3), and the caller sends the check
 * again at once with a real deadline. It costs one extra round trip on the first call of a limiter;
 * without it a first check that met a paused server would be applied when the server resumes, long
 * after it was answered (fail-open) and forgotten.
 */
export const PROBE_DEADLINE = 1

/** Server-clock microseconds after which a call started at `startedUs` changes nothing. */
export function deadlineOf(clock: ServerClock, startedUs: number, timeoutMs: number): number {
  return clock.deadline(startedUs, timeoutMs) || PROBE_DEADLINE
}
