import { TimeoutError } from '@x/redis-core'
import { describe, expect, it } from 'vitest'
import { createDeadlineQueue } from './deadline-queue.js'

describe('createDeadlineQueue', () => {
  it('passes values and errors through', async () => {
    const queue = createDeadlineQueue(1000)
    expect(await queue.race(Promise.resolve(1), 'x')).toBe(1)
    await expect(queue.race(Promise.reject(new Error('boom')), 'x')).rejects.toThrow('boom')
    queue.close()
  })

  it('rejects with TimeoutError when a call outlives the timeout, others still resolve', async () => {
    const queue = createDeadlineQueue(50)
    const never = new Promise<number>(() => {})
    const later = new Promise<number>((resolve) => setTimeout(() => resolve(2), 10))
    const results = await Promise.allSettled([queue.race(never, 'GET a'), queue.race(later, 'GET b')])
    expect(results[0]).toMatchObject({ status: 'rejected' })
    expect(TimeoutError.isInstance((results[0] as PromiseRejectedResult).reason)).toBe(true)
    expect(results[1]).toEqual({ status: 'fulfilled', value: 2 })
    queue.close()
  })

  it('handles many calls in order with one timer', async () => {
    const queue = createDeadlineQueue(30)
    const calls = Array.from({ length: 3000 }, (_, index) =>
      queue
        .race(index % 2 === 0 ? Promise.resolve(index) : new Promise<number>(() => {}), 'x')
        .catch(() => -1),
    )
    const results = await Promise.all(calls)
    expect(results.filter((value) => value === -1)).toHaveLength(1500)
    queue.close()
  })
})
