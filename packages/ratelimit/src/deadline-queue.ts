/**
 * One call waiting for Redis: `expire` runs once `deadline` (performance.now() milliseconds) has
 * passed while the call is still queued. `previous`/`next` belong to the queue.
 */
export interface TimedCall {
  deadline: number
  expire(): void
  previous: TimedCall | undefined
  next: TimedCall | undefined
  queued: boolean
}

/**
 * Per-call timeouts without a timer per call, for the check hot path. Every call of one queue has the
 * same timeout, so deadlines arrive in insertion order: an intrusive doubly linked list (O(1) add and
 * removal, no allocation: a Set here made the garbage collector dominate under load) and one unref'd
 * timer armed for the oldest pending call serve them all.
 * (The idea of @x/redis-core's createDeadlineQueue, which core does not export; this variant runs a
 * callback instead of rejecting a promise so that a caller builds its answer in one promise.)
 */
export class DeadlineQueue {
  private head: TimedCall | undefined
  private tail: TimedCall | undefined
  private timer: NodeJS.Timeout | undefined

  constructor(readonly timeoutMs: number) {}

  /** Queues a call whose deadline is now + timeoutMs. */
  add(call: TimedCall): void {
    call.previous = this.tail
    call.next = undefined
    call.queued = true
    if (this.tail) this.tail.next = call
    else this.head = call
    this.tail = call
    if (this.timer === undefined) this.arm(this.timeoutMs)
  }

  /** Takes a call off the queue; false when it had already expired (its answer is then ignored). */
  settle(call: TimedCall): boolean {
    if (!call.queued) return false
    call.queued = false
    const { previous, next } = call
    if (previous) previous.next = next
    else this.head = next
    if (next) next.previous = previous
    else this.tail = previous
    call.previous = undefined
    call.next = undefined
    return true
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => this.sweep(), Math.max(1, ms))
    this.timer.unref?.()
  }

  private sweep(): void {
    this.timer = undefined
    const now = performance.now()
    let call = this.head
    while (call) {
      if (call.deadline > now) {
        this.arm(call.deadline - now)
        return
      }
      this.settle(call)
      // expire() settles a promise and does not throw; a timer callback must never throw anyway.
      call.expire()
      call = this.head
    }
  }
}
