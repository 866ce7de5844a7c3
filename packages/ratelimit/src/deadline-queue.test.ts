import { eventually } from '@x/testkit/vitest'
import { describe, expect, it } from 'vitest'
import { DeadlineQueue, type TimedCall } from './deadline-queue.js'

const timed = (queue: DeadlineQueue, expired: string[], name: string): TimedCall => ({
  deadline: performance.now() + queue.timeoutMs,
  expire: () => expired.push(name),
  previous: undefined,
  next: undefined,
  queued: false,
})

describe('DeadlineQueue', () => {
  it('expires the calls still queued after the timeout, oldest first, and only once', async () => {
    const queue = new DeadlineQueue(30)
    const expired: string[] = []
    const a = timed(queue, expired, 'a')
    const b = timed(queue, expired, 'b')
    const c = timed(queue, expired, 'c')
    for (const call of [a, b, c]) queue.add(call)
    expect(queue.settle(b)).toBe(true)
    expect(queue.settle(b)).toBe(false)
    await eventually(() => expired.length === 2)
    expect(expired).toEqual(['a', 'c'])
    // An expired call is off the queue: its late answer is ignored.
    expect(queue.settle(a)).toBe(false)
    expect(queue.settle(c)).toBe(false)
  })

  it('settles from the middle, the head and the tail without losing the others', async () => {
    const queue = new DeadlineQueue(30)
    const expired: string[] = []
    const calls = ['a', 'b', 'c', 'd', 'e'].map((name) => timed(queue, expired, name))
    for (const call of calls) queue.add(call)
    for (const at of [2, 0, 4]) expect(queue.settle(calls[at]!)).toBe(true)
    const late = timed(queue, expired, 'f')
    queue.add(late)
    await eventually(() => expired.length === 3)
    expect(expired).toEqual(['b', 'd', 'f'])
  })
})
