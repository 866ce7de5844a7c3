import { createCache } from '@x/cache'
import { createLock } from '@x/lock'
import { createPubSub } from '@x/pubsub'
import { createRateLimiter } from '@x/ratelimit'
import { createSessionStore } from '@x/session'
import { eventually, targets, uniqueName, useRedis } from '@x/testkit/vitest'
import { afterAll, describe, expect, it } from 'vitest'
import { instrument } from './instrument.js'
import { createTestSdk } from './test-support.js'

// Real operations of every package on a real server, through @x/otel into the SDK's in-memory exporters.
const [server] = targets()
if (!server) throw new Error('the test kit provides a standalone server')

describe('spans and metrics from real operations', () => {
  const redis = useRedis(server)
  const sdk = createTestSdk()
  const instrumentation = instrument({ tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider })
  afterAll(async () => {
    instrumentation.close()
    await sdk.shutdown()
  })
  const spansOf = (name: string) => sdk.spans().filter((span) => span.name === name)

  it('cache: a miss then a hit through Redis, counted by outcome, with the key but never the value', async () => {
    const cache = createCache({ redis, prefix: uniqueName('otel-cache'), ttlMs: 60_000 })
    try {
      await cache.getOrSet('user:1', async () => ({ secret: 'the-cached-value' }))
      await cache.getOrSet('user:1', async () => ({ secret: 'not fetched again' }))
    } finally {
      await cache.close()
    }
    const outcomes = spansOf('cache getOrSet').map((span) => span.attributes['x.outcome'])
    expect(outcomes).toEqual(['miss', 'hit-l2'])
    expect(spansOf('cache getOrSet')[0]?.attributes['x.key']).toBe('user:1')
    expect(JSON.stringify(sdk.spans().map((span) => span.attributes))).not.toContain('the-cached-value')
    const requests = await sdk.points('x.cache.requests')
    expect(requests.map((point) => [point.attributes['x.outcome'], point.value]).sort()).toEqual(
      expect.arrayContaining([
        ['hit-l2', 1],
        ['miss', 1],
      ]),
    )
  })

  it('ratelimit: allowed, then limited', async () => {
    const limiter = createRateLimiter({ redis, prefix: uniqueName('otel-limit'), limit: 1, windowMs: 60_000 })
    expect((await limiter.limit('ip:1')).allowed).toBe(true)
    expect((await limiter.limit('ip:1')).allowed).toBe(false)
    const outcomes = spansOf('ratelimit limit').map((span) => span.attributes['x.outcome'])
    expect(outcomes).toEqual(['allowed', 'limited'])
    const decisions = await sdk.points('x.ratelimit.decisions')
    expect(decisions.map((point) => point.attributes['x.outcome']).sort()).toEqual(['allowed', 'limited'])
  })

  it('lock: acquire and release, with the fence and the wait, never the token', async () => {
    const lock = createLock({ redis, prefix: uniqueName('otel-lock') })
    try {
      const lease = await lock.acquire('report')
      await lease.release()
      const [acquired] = spansOf('lock acquire')
      expect(acquired?.attributes).toMatchObject({ 'x.resource': 'report', 'x.outcome': 'acquired' })
      expect(acquired?.attributes['x.lock.fence']).toBe(lease.fence)
      expect(JSON.stringify(acquired?.attributes)).not.toContain(lease.token)
      expect(spansOf('lock release')).toHaveLength(1)
      expect((await sdk.points('x.lock.wait.duration'))[0]).toBeDefined()
    } finally {
      await lock.close()
    }
  })

  it('session: created and found, never the token', async () => {
    const sessions = createSessionStore({ redis, prefix: uniqueName('otel-session') })
    const { token } = await sessions.create('user-1', { role: 'admin' })
    expect(await sessions.get(token)).not.toBeNull()
    expect(spansOf('session get')[0]?.attributes['x.outcome']).toBe('found')
    expect(spansOf('session create')).toHaveLength(1)
    expect(JSON.stringify(sdk.spans().map((span) => span.attributes))).not.toContain(token)
    const operations = await sdk.points('x.session.operations')
    expect(operations.map((point) => point.attributes['x.operation'])).toEqual(
      expect.arrayContaining(['create', 'get']),
    )
  })

  it('pubsub: published and delivered', async () => {
    const pubsub = createPubSub({ redis })
    try {
      const received: unknown[] = []
      const channel = uniqueName('otel-channel')
      await pubsub.subscribe(channel, (message) => {
        received.push(message)
      })
      await pubsub.publish(channel, { n: 1 })
      await eventually(() => received.length === 1)
      await eventually(() => spansOf('pubsub deliver').length === 1)
      expect(spansOf('pubsub publish')[0]?.attributes['x.channel']).toBe(channel)
      expect(spansOf('pubsub deliver')[0]?.attributes['x.outcome']).toBe('delivered')
      const messages = await sdk.points('x.pubsub.messages')
      expect(messages).toEqual([
        expect.objectContaining({
          value: 1,
          attributes: expect.objectContaining({ 'x.outcome': 'delivered' }),
        }),
      ])
    } finally {
      await pubsub.close()
    }
  })
})
