import { createRedis } from '@x/redis-core'
import { eventually, sleep, targets, uniqueName, useRedis } from '@x/testkit/vitest'
import { describe, expect, it } from 'vitest'
import { createCache } from './index.js'

describe.each(targets())('$name', (target) => {
  const redis = useRedis(target, createRedis)
  const fresh = () => `${target.prefix}:${uniqueName('s')}`

  /** Writes `value`, then waits until it is stale (past ttl, within grace). */
  async function staleEntry(cache: ReturnType<typeof createCache>, key: string, value: unknown) {
    await cache.set(key, value)
    await eventually(
      async () =>
        (await cache.get(key)) === undefined && (await cache.get(key, { allowStale: true })) !== undefined,
    )
  }

  it('within grace, serves the stale value at once and runs exactly one background refresh', async () => {
    const cache = createCache({ redis, prefix: fresh(), ttlMs: 100, graceMs: 60_000 })
    const served: string[] = []
    cache.on('stale', (event) => served.push(event.reason))
    await staleEntry(cache, 'k', 'old')
    let refreshes = 0
    let finish!: () => void
    const slow = new Promise<void>((resolve) => {
      finish = resolve
    })
    const fetcher = async () => {
      refreshes++
      await slow
      return 'new'
    }
    const results = []
    for (let round = 0; round < 5; round++) {
      results.push(...(await Promise.all(Array.from({ length: 20 }, () => cache.getOrSet('k', fetcher)))))
    }
    expect(results.every((value) => value === 'old')).toBe(true)
    expect(refreshes).toBe(1)
    finish()
    // Read allowing stale: the refreshed value has the same 100 ms ttl, which a slow machine can let
    // pass before the first read; only the refresh can have stored 'new'.
    await eventually(async () => (await cache.get('k', { allowStale: true })) === 'new', 15_000)
    expect(refreshes).toBe(1)
    expect(served.length).toBeGreaterThan(0)
    expect(served.every((reason) => reason === 'revalidate')).toBe(true)
  })

  it('a failing background refresh keeps serving stale and reports the error', async () => {
    const errors: unknown[] = []
    const cache = createCache({
      redis,
      prefix: fresh(),
      ttlMs: 100,
      graceMs: 60_000,
    })
    cache.on('fetchError', (event) => errors.push(event.error))
    await staleEntry(cache, 'k', 'old')
    const failing = async (): Promise<string> => {
      throw new Error('source down')
    }
    expect(await cache.getOrSet('k', failing)).toBe('old')
    await eventually(() => errors.length === 1)
    expect(await cache.getOrSet('k', failing)).toBe('old')
    await eventually(() => errors.length === 2)
    expect(cache.stats().fetchErrors).toBe(2)
  })

  it('fail-safe: with SWR off, a throwing fetcher serves the graced value and reports', async () => {
    const reports: Array<{ staleServed: boolean }> = []
    const cache = createCache({
      redis,
      prefix: fresh(),
      ttlMs: 100,
      graceMs: 60_000,
      staleWhileRevalidate: false,
    })
    cache.on('fetchError', (event) => reports.push(event))
    await staleEntry(cache, 'k', { v: 1 })
    const value = await cache.getOrSet('k', async () => {
      throw new Error('db down')
    })
    expect(value).toEqual({ v: 1 })
    expect(reports).toEqual([expect.objectContaining({ staleServed: true })])
    expect(await cache.getOrSet('k', async () => ({ v: 2 }))).toEqual({ v: 2 })
  })

  it('fail-safe: a hard timeout with a graced value serves it; the fetcher sees the stale value', async () => {
    const cache = createCache({
      redis,
      prefix: fresh(),
      ttlMs: 100,
      graceMs: 60_000,
      staleWhileRevalidate: false,
    })
    const timeouts: string[] = []
    cache.on('fetchTimeout', (event) => timeouts.push(event.kind))
    await staleEntry(cache, 'k', 'old')
    let seen: unknown
    const value = await cache.getOrSet(
      'k',
      async (context) => {
        seen = context.stale
        await sleep(500)
        return 'late'
      },
      { hardTimeoutMs: 50 },
    )
    expect(value).toBe('old')
    expect(seen).toBe('old')
    expect(timeouts).toEqual(['hard'])
  })

  it('soft timeout returns the stale value and the fetch finishes in the background', async () => {
    const cache = createCache({
      redis,
      prefix: fresh(),
      ttlMs: 100,
      graceMs: 60_000,
      staleWhileRevalidate: false,
    })
    await staleEntry(cache, 'k', 'old')
    const value = await cache.getOrSet(
      'k',
      async () => {
        await sleep(300)
        return 'new'
      },
      { softTimeoutMs: 30 },
    )
    expect(value).toBe('old')
    expect(cache.stats().fetchTimeouts).toBe(1)
    // allowStale: the refreshed value is fresh for only 100 ms, which a loaded machine's polling can miss.
    await eventually(async () => (await cache.get('k', { allowStale: true })) === 'new', 15_000)
  })

  it('soft timeout does not apply without a stale value (the caller waits for the fetch)', async () => {
    const cache = createCache({ redis, prefix: fresh(), softTimeoutMs: 10 })
    const value = await cache.getOrSet('k', async () => {
      await sleep(80)
      return 'fetched'
    })
    expect(value).toBe('fetched')
  })

  it('after grace the entry is gone and the fetcher runs in the foreground', async () => {
    const cache = createCache({ redis, prefix: fresh(), ttlMs: 50, graceMs: 100 })
    await cache.set('k', 'old')
    await eventually(async () => (await cache.get('k', { allowStale: true })) === undefined)
    expect(await cache.getOrSet('k', async () => 'new')).toBe('new')
  })

  it('a background refresh that meets a newer write does not overwrite it', async () => {
    const cache = createCache({ redis, prefix: fresh(), ttlMs: 100, graceMs: 60_000 })
    await staleEntry(cache, 'k', 'old')
    let finish!: () => void
    const slow = new Promise<void>((resolve) => {
      finish = resolve
    })
    expect(
      await cache.getOrSet('k', async () => {
        await slow
        return 'refreshed-from-old-read'
      }),
    ).toBe('old')
    await cache.set('k', 'written')
    finish()
    await eventually(() => cache.stats().refusedWrites === 1)
    expect(await cache.get('k')).toBe('written')
  })
})
