// A copy of packages/redis-core/src/deadline-queue.ts: core has it but its index does not export it
// yet. Once `createDeadlineQueue` is exported from @x/redis-core, import it from there and delete
// this file and its test.
import { TimeoutError, toRedisError } from '@x/redis-core'

export interface DeadlineQueue {
  /** The timeout every call of this queue gets. */
  readonly timeoutMs: number
  /**
   * Settles like `promise`, or rejects with `TimeoutError` once `timeoutMs` has passed; connection
   * errors become `RedisUnavailableError`. The losing promise's later result is ignored.
   */
  run<T>(promise: Promise<T>, what: string): Promise<T>
  /** Clears the timer; calls still pending keep waiting for their promise alone. */
  close(): void
}

interface Pending {
  deadline: number
  reject: (error: unknown) => void
  what: string
}

/**
 * Per-call timeouts without a timer per call, for hot paths. Every call of one queue has the same
 * timeout, so deadlines arrive in insertion order: a Set (which iterates in insertion order) and one
 * unref'd timer armed for the oldest pending call serve them all. A call costs a Set add and delete
 * instead of a setTimeout/clearTimeout pair.
 */
export function createDeadlineQueue(timeoutMs: number): DeadlineQueue {
  const pending = new Set<Pending>()
  let timer: NodeJS.Timeout | undefined

  const arm = (ms: number) => {
    timer = setTimeout(sweep, Math.max(1, ms))
    timer.unref?.()
  }

  const sweep = () => {
    timer = undefined
    const now = performance.now()
    for (const entry of pending) {
      if (entry.deadline > now) {
        arm(entry.deadline - now)
        return
      }
      pending.delete(entry)
      entry.reject(new TimeoutError(`${entry.what} did not finish within ${timeoutMs} ms`))
    }
  }

  return {
    timeoutMs,
    run(promise, what) {
      return new Promise((resolve, reject) => {
        const entry: Pending = { deadline: performance.now() + timeoutMs, reject, what }
        pending.add(entry)
        if (!timer) arm(timeoutMs)
        promise.then(
          (value) => {
            if (pending.delete(entry)) resolve(value)
          },
          (error: unknown) => {
            if (pending.delete(entry)) reject(toRedisError(error))
          },
        )
      })
    },
    close() {
      clearTimeout(timer)
      timer = undefined
    },
  }
}
