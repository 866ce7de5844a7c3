import type { Lease } from './types.js'

export interface Watchdog {
  stop(): void
}

/**
 * Keeps a lease alive while a routine runs: every `intervalMs` it extends the lease to `ttl`.
 * One extension at a time (a chained timeout, not an interval, so a slow Redis never stacks
 * calls). Its timer is unref'd and its callback cannot throw: a failed extension goes to `report`
 * (unless the watchdog was stopped meanwhile: a stopped watchdog reports nothing),
 * and a lost lease stops the watchdog (the lease's signal has already aborted with LockLostError).
 * When Redis stays unreachable, the lease's own expiry timer aborts the signal at the end of its
 * validity.
 */
export function startWatchdog(
  lease: Lease,
  options: { ttl: number; intervalMs: number },
  report: (error: unknown) => void,
): Watchdog {
  let stopped = false
  let timer: NodeJS.Timeout | undefined

  const schedule = () => {
    if (stopped || !lease.held) return
    timer = setTimeout(tick, options.intervalMs)
    timer.unref?.()
  }

  const tick = () => {
    if (stopped) return
    lease.extend(options.ttl).then(schedule, (error: unknown) => {
      // Stopped while the extension was in flight: the routine is over and the lease released,
      // so an extension that now finds it released is expected, not a failure.
      if (stopped) return
      try {
        report(error)
      } catch {
        // report() is our own emitter, which already isolates listener errors.
      }
      schedule()
    })
  }

  // Touch the signal so the lease's expiry timer runs even if the routine never reads it.
  void lease.signal
  schedule()
  return {
    stop() {
      stopped = true
      clearTimeout(timer)
    },
  }
}
