import { TimeoutError } from './errors.js'
import { toRedisError } from './redis-error.js'

/**
 * Races `promise` against a timer. The timer is unref'd and cleared, so it never keeps a process
 * alive; the losing promise's rejection is swallowed here because the caller already got an answer.
 */
export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what = 'operation'): Promise<T> {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) return promise
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new TimeoutError(`${what} did not finish within ${timeoutMs} ms`, { timeoutMs }))
    }, timeoutMs)
    timer.unref?.()
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

/** `withTimeout` for Redis calls: connection errors become `RedisUnavailableError`. */
export async function redisCall<T>(
  promise: Promise<T>,
  timeoutMs: number,
  what = 'Redis command',
): Promise<T> {
  try {
    return await withTimeout(promise, timeoutMs, what)
  } catch (error) {
    throw toRedisError(error)
  }
}
