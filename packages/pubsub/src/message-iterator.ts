import { assertPositive, InvalidArgumentError } from '@x/redis-core'
import { OverflowError } from './errors.js'

export type OverflowPolicy = 'drop-oldest' | 'drop-newest' | 'error'

export interface IterateOptions {
  /** Ends the iteration (and unsubscribes) when aborted. */
  signal?: AbortSignal
  /**
   * Most messages buffered while the consumer is busy. Memory stays bounded however slow it is.
   * @default 1024
   */
  highWaterMark?: number
  /**
   * What a full buffer does with a new message: `'drop-oldest'` keeps the freshest messages,
   * `'drop-newest'` keeps the oldest, `'error'` ends the iteration with `OverflowError` after the
   * buffered messages were consumed. Every dropped message is counted in `dropped`.
   * @default 'drop-oldest'
   */
  overflow?: OverflowPolicy
}

/** An async iterable over one subscription. `break`, `return()`, `close()` and the signal unsubscribe. */
export interface MessageIterable<T> extends AsyncIterableIterator<T> {
  /** Resolves once the server acknowledged the subscription; rejects if subscribing failed. */
  readonly ready: Promise<void>
  /** Messages lost to the overflow policy so far. */
  readonly dropped: number
  /** Messages waiting in the buffer. */
  readonly buffered: number
  /** Ends the iteration and resolves once the server acknowledged the unsubscribe. */
  close(): Promise<void>
}

type Unsubscribe = () => Promise<void>
type Waiter<T> = { resolve(result: IteratorResult<T>): void; reject(error: unknown): void }

const OVERFLOW_POLICIES: readonly OverflowPolicy[] = ['drop-oldest', 'drop-newest', 'error']

export function validateIterateOptions(options: IterateOptions): Required<Omit<IterateOptions, 'signal'>> {
  const highWaterMark = options.highWaterMark ?? 1024
  assertPositive('highWaterMark', highWaterMark, { integer: true })
  const overflow = options.overflow ?? 'drop-oldest'
  if (!OVERFLOW_POLICIES.includes(overflow)) {
    throw new InvalidArgumentError(
      `overflow must be one of ${OVERFLOW_POLICIES.join(', ')}, got ${String(overflow)}`,
    )
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new InvalidArgumentError('signal must be an AbortSignal')
  }
  return { highWaterMark, overflow }
}

/**
 * Bridges push (a subscription handler) to pull (an async iterator) through a fixed-size ring
 * buffer, so a slow consumer costs at most `highWaterMark` messages of memory.
 */
export function createMessageIterable<T>(
  channel: string,
  subscribe: (handler: (message: T) => void) => Promise<Unsubscribe>,
  options: IterateOptions,
  onDrop: () => void,
  onEnd: () => void = () => {},
): MessageIterable<T> {
  const { highWaterMark, overflow } = validateIterateOptions(options)
  const { signal } = options
  const ring: Array<T | undefined> = new Array(highWaterMark)
  let head = 0
  let size = 0
  let dropped = 0
  let failure: unknown
  let ended = false
  const waiters: Waiter<T>[] = []
  let closing: Promise<void> | undefined

  const push = (message: T) => {
    if (ended || failure !== undefined) return
    const waiter = waiters.shift()
    if (waiter) {
      waiter.resolve({ value: message, done: false })
      return
    }
    if (size < highWaterMark) {
      ring[(head + size) % highWaterMark] = message
      size++
      return
    }
    dropped++
    onDrop()
    if (overflow === 'drop-oldest') {
      ring[head] = message
      head = (head + 1) % highWaterMark
    } else if (overflow === 'error') {
      failure = new OverflowError(
        `iterator buffer of "${channel}" overflowed (highWaterMark ${highWaterMark}); the consumer is slower than the publishers`,
        { channel, highWaterMark },
      )
      void unsubscribe()
    }
  }

  const shift = (): T => {
    const message = ring[head] as T
    ring[head] = undefined
    head = (head + 1) % highWaterMark
    size--
    return message
  }

  const subscription = signal?.aborted ? Promise.resolve(async () => {}) : subscribe(push)
  const ready = subscription.then(
    () => undefined,
    (error: unknown) => {
      fail(error)
      throw error
    },
  )
  // The caller may never look at `ready`; its failure also reaches them through next().
  ready.catch(() => {})

  const unsubscribe = () => {
    closing ??= subscription.then(
      (off) => off(),
      () => {},
    )
    return closing
  }

  const fail = (error: unknown) => {
    if (ended) return
    failure = error
    for (const waiter of waiters.splice(0)) waiter.reject(error)
  }

  const end = () => {
    if (!ended) {
      ended = true
      onEnd()
      size = 0
      ring.fill(undefined)
      signal?.removeEventListener('abort', end)
      for (const waiter of waiters.splice(0)) waiter.resolve({ value: undefined, done: true })
    }
    return unsubscribe()
  }

  if (signal?.aborted) void end()
  else signal?.addEventListener('abort', end, { once: true })

  const iterable: MessageIterable<T> = {
    ready,
    get dropped() {
      return dropped
    },
    get buffered() {
      return size
    },
    next() {
      if (size > 0) return Promise.resolve({ value: shift(), done: false })
      if (ended) return Promise.resolve({ value: undefined, done: true })
      if (failure !== undefined) {
        const error = failure
        return end().then(() => Promise.reject(error))
      }
      return new Promise<IteratorResult<T>>((resolve, reject) => {
        waiters.push({ resolve, reject })
      })
    },
    async return() {
      await end()
      return { value: undefined, done: true }
    },
    close() {
      return end()
    },
    [Symbol.asyncIterator]() {
      return iterable
    },
  }
  return iterable
}
