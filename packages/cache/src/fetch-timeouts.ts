import { FetchTimeoutError } from './errors.js'

/**
 * Rejects with FetchTimeoutError after `ms` and aborts `controller`, so a fetcher that honours its
 * signal stops working. The fetcher's own late rejection is observed here, never unhandled.
 */
export function withHardTimeout<T>(
  promise: Promise<T>,
  key: string,
  ms: number | undefined,
  controller: AbortController,
): Promise<T> {
  if (ms === undefined) return promise
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = new FetchTimeoutError(`fetcher did not finish within ${ms} ms (hard timeout)`, {
        key,
        timeoutMs: ms,
      })
      controller.abort(error)
      reject(error)
    }, ms)
    promise.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}

const PENDING = Symbol('pending')

/** Waits up to `ms` for `work`; `PENDING` if it is still running (its outcome is left to the caller). */
export function waitAtMost<T>(work: Promise<T>, ms: number): Promise<T | typeof PENDING> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(PENDING), ms)
    work.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}
waitAtMost.PENDING = PENDING
