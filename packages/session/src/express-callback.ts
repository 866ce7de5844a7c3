import type { Callback } from './express-store-types.js'

/** Runs `task` and hands the outcome to an express-session style callback, if any, and the promise. */
export function settle<T>(callback: Callback<T> | undefined, task: () => Promise<T>): Promise<T> {
  const promise = task()
  if (!callback) return promise
  // The callback runs outside the promise chain, as in any callback API: if it throws, that is an
  // uncaught exception of the caller's code, not an unhandled rejection hidden in ours.
  promise.then(
    (value) => process.nextTick(callback, null, value),
    (error: unknown) => process.nextTick(callback, error),
  )
  // The callback got the error; the returned promise must not also become an unhandled rejection.
  return promise.catch(() => undefined as T)
}
