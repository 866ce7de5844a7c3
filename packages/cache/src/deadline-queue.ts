import { TimeoutError, toRedisError } from '@x/redis-core'

interface Pending {
  deadline: number
  settled: boolean
  reject: (error: unknown) => void
}

export interface DeadlineQueue {
  /** Resolves or rejects like `promise`, or rejects with TimeoutError after the queue's timeout. */
  race<T>(promise: Promise<T>, what: string): Promise<T>
  /** Rejects nothing further and clears the timer. */
  close(): void
}

/**
 * A per-call Redis timeout without a timer per call. Every call shares one timeout, so deadlines
 * arrive in insertion order: a FIFO and one timer for its head are enough. On the hit path this
 * replaces a setTimeout + clearTimeout pair per call with an object push.
 */
export function createDeadlineQueue(timeoutMs: number): DeadlineQueue {
  let queue: Pending[] = []
  let head = 0
  let timer: NodeJS.Timeout | undefined

  const schedule = () => {
    while (head < queue.length && queue[head]!.settled) head++
    if (head === queue.length) {
      queue = []
      head = 0
      return
    }
    if (head > 1024 && head * 2 > queue.length) {
      queue = queue.slice(head)
      head = 0
    }
    if (timer) return
    const wait = Math.max(0, queue[head]!.deadline - Date.now())
    timer = setTimeout(expire, wait + 1)
    timer.unref?.()
  }

  const expire = () => {
    timer = undefined
    const now = Date.now()
    while (head < queue.length) {
      const pending = queue[head]!
      if (!pending.settled) {
        if (pending.deadline > now) break
        pending.settled = true
        pending.reject(new TimeoutError(`Redis did not answer within ${timeoutMs} ms`))
      }
      head++
    }
    schedule()
  }

  return {
    race<T>(promise: Promise<T>, what: string): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const pending: Pending = {
          deadline: Date.now() + timeoutMs,
          settled: false,
          reject: (error) => reject(new TimeoutError(`${what}: ${(error as Error).message}`)),
        }
        queue.push(pending)
        if (!timer) schedule()
        promise.then(
          (value) => {
            if (pending.settled) return
            pending.settled = true
            resolve(value)
          },
          (error: unknown) => {
            if (pending.settled) return
            pending.settled = true
            reject(toRedisError(error))
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
