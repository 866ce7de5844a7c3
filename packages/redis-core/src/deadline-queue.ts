import { TimeoutError } from './errors.js'
import { toRedisError } from './redis-error.js'

/**
 * One call waiting for Redis, as an intrusive list node: `expire` runs once its deadline has passed
 * while it is still queued. `deadline`, `previous`, `next` and `queued` belong to the queue.
 */
export interface TimedCall {
  deadline: number
  expire(): void
  previous: TimedCall | undefined
  next: TimedCall | undefined
  queued: boolean
}

export interface DeadlineQueue {
  /** The timeout every call of this queue gets. */
  readonly timeoutMs: number
  /**
   * Settles like `promise`, or rejects with `TimeoutError` once `timeoutMs` has passed; connection
   * errors become `RedisUnavailableError`. The losing promise's later result is ignored.
   */
  run<T>(promise: Promise<T>, what: string): Promise<T>
  /** Low level, for hot paths that build their answer in one promise: queues `call` (deadline now + timeoutMs). */
  add(call: TimedCall): void
  /** Takes `call` off the queue; false when it had already expired (its answer is then to be ignored). */
  settle(call: TimedCall): boolean
  /** Clears the timer; calls still pending keep waiting for their promise alone. */
  close(): void
}

/**
 * Per-call timeouts without a timer per call, for hot paths. Every call of one queue has the same
 * timeout, so deadlines arrive in insertion order: an intrusive doubly linked list (O(1) add and
 * removal, no hashing; a Set here let the garbage collector dominate under load with several queues
 * in turn) and one unref'd timer armed for the oldest pending call serve them all.
 */
export function createDeadlineQueue(timeoutMs: number): DeadlineQueue {
  let head: TimedCall | undefined
  let tail: TimedCall | undefined
  let timer: NodeJS.Timeout | undefined

  const arm = (ms: number) => {
    timer = setTimeout(sweep, Math.max(1, ms))
    timer.unref?.()
  }

  const add = (call: TimedCall) => {
    call.deadline = performance.now() + timeoutMs
    call.previous = tail
    call.next = undefined
    call.queued = true
    if (tail) tail.next = call
    else head = call
    tail = call
    if (timer === undefined) arm(timeoutMs)
  }

  const settle = (call: TimedCall): boolean => {
    if (!call.queued) return false
    call.queued = false
    const { previous, next } = call
    if (previous) previous.next = next
    else head = next
    if (next) next.previous = previous
    else tail = previous
    call.previous = undefined
    call.next = undefined
    return true
  }

  const sweep = () => {
    timer = undefined
    const now = performance.now()
    let call = head
    while (call) {
      if (call.deadline > now) {
        arm(call.deadline - now)
        return
      }
      settle(call)
      // expire() settles a promise; a timer callback must never throw.
      call.expire()
      call = head
    }
  }

  return {
    timeoutMs,
    add,
    settle,
    run(promise, what) {
      return new Promise((resolve, reject) => {
        const call: TimedCall = {
          deadline: 0,
          expire: () =>
            reject(new TimeoutError(`${what} did not finish within ${timeoutMs} ms`, { timeoutMs })),
          previous: undefined,
          next: undefined,
          queued: false,
        }
        add(call)
        promise.then(
          (value) => {
            if (settle(call)) resolve(value)
          },
          (error: unknown) => {
            if (settle(call)) reject(toRedisError(error))
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
