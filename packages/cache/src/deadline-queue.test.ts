import { RedisUnavailableError, TimeoutError } from '@x/redis-core'
import { describe, expect, it } from 'vitest'
import { createDeadlineQueue } from './deadline-queue.js'

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
