import { createRedis, type RedisClient, RedisUnavailableError, TimeoutError } from '@x/redis-core'
import { startRedis } from '@x/testkit'
import { eventually } from '@x/testkit/vitest'
import session from 'express-session'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createExpressSessionStore } from './express-store.js'
import { createSessionStore } from './session-store.js'
import type { SessionStore } from './types.js'

const isTyped = (error: unknown) => RedisUnavailableError.isInstance(error) || TimeoutError.isInstance(error)

describe('session store when Redis is slow or away (private server)', () => {
  let server: Awaited<ReturnType<typeof startRedis>>
  let redis: RedisClient
  let store: SessionStore

  beforeAll(async () => {
    server = await startRedis()
    // commandTimeoutMs is high on purpose: the store's own timeout must be what ends the wait.
    redis = createRedis({ url: server.url, commandTimeoutMs: 30_000 })
    store = createSessionStore({ redis, prefix: 'faults', redisTimeoutMs: 300 })
  })

  afterAll(async () => {
    redis.disconnect()
    await server.stop()
  })

  it('fails closed with TimeoutError while the server is paused, for every operation', async () => {
    const { token } = await store.create('user-1', { role: 'admin' })
    server.pause()
    try {
      const results = await Promise.allSettled([
        store.get(token),
        store.update(token, { role: 'root' }),
        store.rotate(token),
        store.destroy(token),
        store.create('user-1', {}),
        store.listForUser('user-1'),
        store.destroyForUser('user-1'),
      ])
      for (const result of results) {
        expect(result.status).toBe('rejected')
        expect(TimeoutError.isInstance((result as PromiseRejectedResult).reason)).toBe(true)
      }
    } finally {
      server.resume()
    }
    // A timed-out command may still run when the server wakes up (here the destroy did), so the
    // check after the pause is that the store works again, not what the old token holds.
    await eventually(async () => {
      const created = await store.create('user-1', { role: 'again' }).catch(() => null)
      return created !== null && (await store.get(created.token))?.data.role === 'again'
    }, 10_000)
  })

  it('fails closed with a typed error when the server is down, and works again after a restart', async () => {
    const { token } = await store.create('user-2', {})
    await server.kill()
    await expect(store.get(token)).rejects.toSatisfy(isTyped)
    await expect(store.create('user-2', {})).rejects.toSatisfy(isTyped)
    await server.restart()
    // The data lived in memory only (persistence is off): the old token is gone, new logins work.
    await eventually(
      async () => {
        try {
          await store.create('user-2', {})
          return true
        } catch {
          return false
        }
      },
      15_000,
      100,
    )
    expect(await store.get(token)).toBeNull()
  })

  it('express store: every operation, SCAN walks included, ends with the store timeout while paused', async () => {
    const express = createExpressSessionStore(session, {
      redis,
      prefix: 'faults-express',
      redisTimeoutMs: 300,
    })
    await express.set('sid-1', { cookie: { maxAge: 60_000 }, userId: 'u' })
    server.pause()
    try {
      // The client waits 30 s; only the store's 300 ms can produce these errors while paused.
      const results = await Promise.allSettled([
        express.length(),
        express.ids(),
        express.all(),
        express.clear(),
        express.get('sid-1'),
        express.set('sid-2', { cookie: { maxAge: 60_000 } }),
        express.touch('sid-1', { cookie: { maxAge: 60_000 } }),
        express.destroy('sid-1'),
        express.destroyForUser('u'),
      ])
      for (const result of results) {
        expect(result.status).toBe('rejected')
        const reason = (result as PromiseRejectedResult).reason as Error
        expect(TimeoutError.isInstance(reason)).toBe(true)
        expect(reason.message).toContain('300 ms')
      }
    } finally {
      server.resume()
    }
  })

  it('relies on the client command timeout when it is the stricter one', async () => {
    const strict = createRedis({ url: server.url, commandTimeoutMs: 300 })
    try {
      const quick = createSessionStore({ redis: strict, prefix: 'faults' })
      const { token } = await quick.create('user-3', {})
      server.pause()
      try {
        await expect(quick.get(token)).rejects.toSatisfy((error) => TimeoutError.isInstance(error))
      } finally {
        server.resume()
      }
    } finally {
      strict.disconnect()
    }
  })
})
