import { type RedisClient, type Script, type ScriptArg, TimeoutError, toRedisError } from '@x/redis-core'

interface Pending {
  deadline: number
  reject: (error: unknown) => void
  what: string
}

/**
 * Per-operation timeouts without a timer per call: every call of one deadline queue has the same
 * timeout, so deadlines arrive in insertion order and one unref'd timer (armed for the oldest
 * pending call) serves them all. On the hot path a call costs a Set insert and delete.
 */
export class DeadlineQueue {
  readonly #pending = new Set<Pending>()
  #timer: NodeJS.Timeout | undefined

  constructor(readonly timeoutMs: number) {}

  run<T>(promise: Promise<T>, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = { deadline: performance.now() + this.timeoutMs, reject, what }
      this.#pending.add(entry)
      if (!this.#timer) this.#arm(this.timeoutMs)
      promise.then(
        (value) => {
          this.#pending.delete(entry)
          resolve(value)
        },
        (error: unknown) => {
          this.#pending.delete(entry)
          reject(toRedisError(error))
        },
      )
    })
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(() => this.#sweep(), Math.max(1, ms))
    this.#timer.unref?.()
  }

  #sweep(): void {
    this.#timer = undefined
    const now = performance.now()
    for (const entry of this.#pending) {
      if (entry.deadline > now) {
        this.#arm(entry.deadline - now)
        return
      }
      this.#pending.delete(entry)
      entry.reject(new TimeoutError(`${entry.what} did not finish within ${this.timeoutMs} ms`))
    }
  }
}

/** Runs a script under the queue's timeout; connection errors become RedisUnavailableError. */
export function runScript<T>(
  deadlines: DeadlineQueue,
  script: Script<T>,
  server: RedisClient,
  keys: readonly string[],
  args: readonly ScriptArg[],
): Promise<T> {
  return deadlines.run(script.run(server, keys, args), script.name)
}
