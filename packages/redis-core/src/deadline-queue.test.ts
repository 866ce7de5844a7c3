import { describe, expect, it } from 'vitest'
import { createDeadlineQueue } from './deadline-queue.js'
import { RedisUnavailableError, TimeoutError } from './errors.js'

const later = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms))

describe('createDeadlineQueue', () => {
  it('passes results and maps connection errors', async () => {
    const queue = createDeadlineQueue(1000)
    await expect(queue.run(Promise.resolve(1), 'get')).resolves.toBe(1)
    await expect(queue.run(Promise.reject(new Error('Connection is closed.')), 'get')).rejects.toBeInstanceOf(
      RedisUnavailableError,
    )
  })

  it('times out late calls in order with one timer, and ignores their late results', async () => {
    const queue = createDeadlineQueue(50)
    const outcomes = await Promise.allSettled([
      queue.run(later(10, 'fast'), 'a'),
      queue.run(new Promise(() => {}), 'b'),
      queue.run(later(500, 'slow'), 'c'),
    ])
    expect(outcomes[0]).toEqual({ status: 'fulfilled', value: 'fast' })
    expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(TimeoutError)
    expect((outcomes[2] as PromiseRejectedResult).reason.message).toMatch(/c did not finish within 50 ms/)
  })

  it('re-arms for calls made after the first ones settled', async () => {
    const queue = createDeadlineQueue(30)
    await queue.run(later(5, 1), 'first')
    await expect(queue.run(new Promise(() => {}), 'second')).rejects.toBeInstanceOf(TimeoutError)
    queue.close()
  })
})

describe('createDeadlineQueue, low level', () => {
  const timed = (expired: string[], name: string) => ({
    deadline: 0,
    expire: () => expired.push(name),
    previous: undefined,
    next: undefined,
    queued: false,
  })
  const settled = (check: () => boolean) =>
    new Promise<void>((resolve) => {
      const poll = () => (check() ? resolve() : setTimeout(poll, 10))
      poll()
    })

  it('expires the calls still queued after the timeout, oldest first, and only once', async () => {
    const queue = createDeadlineQueue(30)
    const expired: string[] = []
    const [a, b, c] = ['a', 'b', 'c'].map((name) => timed(expired, name)) as [
      ReturnType<typeof timed>,
      ReturnType<typeof timed>,
      ReturnType<typeof timed>,
    ]
    for (const call of [a, b, c]) queue.add(call)
    expect(queue.settle(b)).toBe(true)
    expect(queue.settle(b)).toBe(false)
    await settled(() => expired.length === 2)
    expect(expired).toEqual(['a', 'c'])
    // An expired call is off the queue: its late answer is ignored.
    expect(queue.settle(a)).toBe(false)
    expect(queue.settle(c)).toBe(false)
  })

  it('settles from the middle, the head and the tail without losing the others', async () => {
    const queue = createDeadlineQueue(30)
    const expired: string[] = []
    const calls = ['a', 'b', 'c', 'd', 'e'].map((name) => timed(expired, name))
    for (const call of calls) queue.add(call)
    for (const at of [2, 0, 4]) expect(queue.settle(calls[at]!)).toBe(true)
    queue.add(timed(expired, 'f'))
    await settled(() => expired.length === 3)
    expect(expired).toEqual(['b', 'd', 'f'])
  })
})
