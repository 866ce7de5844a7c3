import { redact, redactError } from './redact.js'
/**
 * Runs a user callback (key generator, fetcher, hook) where its throw must not escape into a timer
 * or a socket callback: a synchronous throw or a rejected promise goes to `onThrow` and the call
 * answers `undefined` instead. A promise result is returned already handled, so awaiting it never
 * rejects.
 */
export function callSafely<T>(fn: () => Promise<T>, onThrow: (error: unknown) => void): Promise<T | undefined>
export function callSafely<T>(fn: () => T, onThrow: (error: unknown) => void): T | undefined
export function callSafely<T>(fn: () => T, onThrow: (error: unknown) => void): unknown {
  let result: T
  try {
    result = fn()
  } catch (error) {
    report(onThrow, error)
    return undefined
  }
  if (isThenable(result)) {
    return Promise.resolve(result).then(undefined, (error: unknown) => {
      report(onThrow, error)
      return undefined
    })
  }
  return result
}

function report(onThrow: (error: unknown) => void, error: unknown): void {
  try {
    onThrow(error)
  } catch (reporterError) {
    // The reporter failed too; printing is the last place left that cannot throw back.
    console.error(
      '[@x] an error reporter threw while reporting',
      scrubbed(reporterError),
      'for',
      scrubbed(error),
    )
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}

/** Printed objects are inspected deeply: remove passwords and command arguments first. */
function scrubbed(error: unknown): unknown {
  return error instanceof Error ? redactError(error) : typeof error === 'string' ? redact(error) : error
}
