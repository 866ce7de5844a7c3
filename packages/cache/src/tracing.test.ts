import { tracingChannel } from 'node:diagnostics_channel'
import { createRedis } from '@x/redis-core'
import { targets, uniqueName, useRedis } from '@x/testkit/vitest'
import { afterEach, describe, expect, it } from 'vitest'
import { createCache } from './index.js'

type Seen = { event: 'start' | 'asyncEnd' | 'error'; context: Record<string, unknown> }

/** Records what subscribers of `x:cache:<operation>` see: a copy of the context at each event. */
function subscribe(operation: string) {
  const seen: Seen[] = []
  const record = (event: Seen['event']) => (context: object) => {
    seen.push({ event, context: { ...context } })
  }
  const handlers = {
    end: () => {},
    asyncStart: () => {},
    start: record('start'),
    asyncEnd: record('asyncEnd'),
    error: record('error'),
  }
  const channel = tracingChannel(`x:cache:${operation}`)
  channel.subscribe(handlers)
  return { seen, stop: () => channel.unsubscribe(handlers) }
}

const [server] = targets()

describe('tracing channels', () => {
  const redis = useRedis(server!, createRedis)
  const stops: Array<() => void> = []
  afterEach(() => {
    for (const stop of stops.splice(0)) stop()
  })
  const watch = (operation: string) => {
    const subscription = subscribe(operation)
    stops.push(subscription.stop)
    return subscription.seen
  }
  const SECRET = 'secret-value-that-must-not-be-traced'

  it('getOrSet publishes the key, the outcome and round trips, never the value', async () => {
    const cache = createCache({ redis, prefix: uniqueName('trace'), l1: {} })
    const seen = watch('getOrSet')
    await cache.getOrSet('user:1', async () => ({ password: SECRET }))
    // Another instance without L1 reads it from Redis.
    const remote = createCache({ redis, prefix: cache.prefix })
    await remote.getOrSet('user:1', async () => ({ password: 'never' }))
    await cache.getOrSet('user:1', async () => ({ password: 'never' }))
    const ends = seen.filter((entry) => entry.event === 'asyncEnd').map((entry) => entry.context)
    expect(ends).toEqual([
      { key: 'user:1', outcome: 'miss', roundTrips: 2 },
      { key: 'user:1', outcome: 'hit-l2', roundTrips: 1 },
      { key: 'user:1', outcome: 'hit-l1', roundTrips: 0 },
    ])
    expect(seen.filter((entry) => entry.event === 'start')).toHaveLength(3)
    expect(JSON.stringify(seen)).not.toContain(SECRET)
    await Promise.all([cache.close(), remote.close()])
  })

  it('a failing fetcher is published on the error channel with the key, and no value', async () => {
    const cache = createCache({ redis, prefix: uniqueName('trace') })
    const seen = watch('getOrSet')
    await expect(
      cache.getOrSet('k', async () => {
        throw new Error('source down')
      }),
    ).rejects.toThrow('source down')
    const errors = seen.filter((entry) => entry.event === 'error')
    expect(errors).toHaveLength(1)
    expect(errors[0]!.context).toMatchObject({ key: 'k', outcome: 'miss', error: expect.any(Error) })
    expect(seen.every((entry) => !('result' in entry.context))).toBe(true)
  })

  it('single-flight joiners are coalesced; writes and deletes say what they did', async () => {
    const cache = createCache({ redis, prefix: uniqueName('trace') })
    const reads = watch('getOrSet')
    const deletes = watch('delete')
    const sets = watch('set')
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const fetcher = async () => {
      await gate
      return 1
    }
    const first = cache.getOrSet('k', fetcher)
    const second = cache.getOrSet('k', fetcher)
    // Both reads are sent before the fetch finishes: the second joins the first.
    await new Promise((resolve) => setImmediate(resolve))
    release()
    await Promise.all([first, second])
    const outcomes = reads.filter((entry) => entry.event === 'asyncEnd').map((entry) => entry.context.outcome)
    expect(outcomes.sort()).toEqual(['coalesced', 'miss'])
    await cache.set('k', SECRET)
    expect(await cache.delete('k')).toBe(true)
    expect(await cache.delete('k')).toBe(false)
    expect(sets.filter((entry) => entry.event === 'asyncEnd').map((entry) => entry.context)).toEqual([
      { key: 'k', outcome: 'written' },
    ])
    expect(
      deletes.filter((entry) => entry.event === 'asyncEnd').map((entry) => entry.context.outcome),
    ).toEqual(['deleted', 'absent'])
    expect(JSON.stringify([...sets, ...deletes])).not.toContain(SECRET)
  })

  it('a rejected input is published as an error too', async () => {
    const cache = createCache({ redis, prefix: uniqueName('trace') })
    const seen = watch('get')
    await expect(cache.get('')).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' })
    expect(seen.map((entry) => entry.event)).toEqual(['start', 'error', 'asyncEnd'])
  })
})
