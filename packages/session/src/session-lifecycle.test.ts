import { createRedis } from '@x/redis-core'
import { sleep, targets, useRedis } from '@x/testkit/vitest'
import { beforeAll, describe, expect, it } from 'vitest'
import { SessionConflictError } from './errors.js'
import { createSessionStore } from './session-store.js'
import { parseToken, tagFor } from './token.js'
import type { SessionStore } from './types.js'

type Data = Record<string, unknown>

describe.each(targets())('session updates, rotation and destroy on $name', (target) => {
  const redis = useRedis(target, createRedis)
  const others = Array.from({ length: 4 }, () => useRedis(target, createRedis))
  let store: SessionStore<Data>
  let inspector: ReturnType<typeof target.client>
  let userCounter = 0
  const user = () => `life-${++userCounter}`
  const sessionKey = (token: string) => {
    const parsed = parseToken(token)!
    return `${target.prefix}:{${parsed.tag}}:s:${parsed.id}`
  }
  const indexKey = (userId: string) => `${target.prefix}:{${tagFor(userId)}}:u:${userId}`

  beforeAll(() => {
    store = createSessionStore({ redis, prefix: target.prefix })
    inspector = target.client()
  })

  describe('update', () => {
    it('merges a shallow patch and removes keys set to undefined', async () => {
      const { token } = await store.create(user(), { a: 1, b: 2, nested: { x: 1 } })
      const updated = await store.update(token, { b: undefined, c: 3, nested: { y: 2 } })
      expect(updated!.data).toEqual({ a: 1, c: 3, nested: { y: 2 } })
      expect(updated!.version).toBe(2)
      expect((await store.get(token))!.data).toEqual({ a: 1, c: 3, nested: { y: 2 } })
    })

    it('applies an updater function to the current data', async () => {
      const { token } = await store.create(user(), { count: 1 })
      const updated = await store.update(token, (data) => ({ ...data, count: (data.count as number) + 1 }))
      expect(updated!.data).toEqual({ count: 2 })
      const asyncUpdated = await store.update(token, async (data) => {
        await sleep(1)
        return { ...data, count: (data.count as number) * 10 }
      })
      expect(asyncUpdated!.data).toEqual({ count: 20 })
    })

    it('returns null for a destroyed session and never recreates it', async () => {
      const { token } = await store.create(user(), { a: 1 })
      await store.destroy(token)
      expect(await store.update(token, { a: 2 })).toBeNull()
      expect(await inspector.exists(sessionKey(token))).toBe(0)
    })

    it('keeps all 100 concurrent patches of different fields (one store)', async () => {
      const { token } = await store.create(user(), {})
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) => store.update(token, { [`field${i}`]: i })),
      )
      expect(results.every((result) => result !== null)).toBe(true)
      const final = await store.get(token)
      expect(Object.keys(final!.data)).toHaveLength(100)
      for (let i = 0; i < 100; i++) expect(final!.data[`field${i}`]).toBe(i)
      expect(final!.version).toBe(101)
    })

    it('never loses one of 100 concurrent updates from 5 processes: each survives or got a conflict error', async () => {
      const stores = [redis, ...others].map((client) =>
        createSessionStore({ redis: client, prefix: target.prefix, updateRetries: 3 }),
      )
      const { token } = await store.create(user(), {})
      const outcomes = await Promise.allSettled(
        Array.from({ length: 100 }, (_, i) =>
          stores[i % stores.length]!.update(token, (data) => ({ ...data, [`field${i}`]: i })),
        ),
      )
      const final = (await store.get(token))!
      let written = 0
      outcomes.forEach((outcome, i) => {
        if (outcome.status === 'fulfilled') {
          written++
          expect(outcome.value).not.toBeNull()
          expect(final.data[`field${i}`]).toBe(i)
        } else {
          expect(SessionConflictError.isInstance(outcome.reason)).toBe(true)
          expect(final.data[`field${i}`]).toBeUndefined()
        }
      })
      expect(Object.keys(final.data)).toHaveLength(written)
      expect(final.version).toBe(written + 1)
      expect(written).toBeGreaterThan(0)
    })

    it('keeps every update of sustained contention between processes with enough retries', async () => {
      const stores = [redis, ...others].map((client) =>
        createSessionStore({ redis: client, prefix: target.prefix, updateRetries: 1000 }),
      )
      const { token } = await store.create(user(), { counter: 0 })
      await Promise.all(
        stores.map(async (each) => {
          for (let i = 0; i < 20; i++) {
            await each.update(token, (data) => ({ ...data, counter: (data.counter as number) + 1 }))
          }
        }),
      )
      expect((await store.get(token))!.data.counter).toBe(100)
    })

    it('fails with SessionConflictError when retries are exhausted, and writes nothing', async () => {
      const strict = createSessionStore({ redis: others[0]!, prefix: target.prefix, updateRetries: 0 })
      const { token } = await store.create(user(), { v: 0 })
      let releaseFirst: () => void = () => {}
      const gate = new Promise<void>((resolve) => {
        releaseFirst = resolve
      })
      const slow = strict.update(token, async (data) => {
        await gate
        return { ...data, v: 'slow' }
      })
      await sleep(20)
      await store.update(token, { v: 'fast' })
      releaseFirst()
      await expect(slow).rejects.toSatisfy((error) => SessionConflictError.isInstance(error))
      expect((await store.get(token))!.data.v).toBe('fast')
    })
  })

  describe('rotate', () => {
    it('keeps the old token readable for a short grace by default, so a request in flight still works', async () => {
      const { token } = await store.create(user(), { role: 'user' })
      const rotated = (await store.rotate(token))!
      const old = await store.get(token)
      expect(old!.rotated).toBe(true)
      expect(old!.data).toEqual({ role: 'user' })
      const pttl = await inspector.pttl(sessionKey(token))
      expect(pttl).toBeGreaterThan(0)
      expect(pttl).toBeLessThanOrEqual(10_000)
      expect((await store.get(rotated.token))!.rotated).toBe(false)
    })

    it('moves data and index entry to a new token; with graceMs 0 the old one dies at once', async () => {
      const userId = user()
      const { token, session } = await store.create(userId, { role: 'user' }, { device: { label: 'phone' } })
      await store.update(token, { role: 'admin' })
      const rotated = await store.rotate(token, { graceMs: 0 })
      expect(rotated).not.toBeNull()
      expect(rotated!.token).not.toBe(token)
      expect(rotated!.session.id).not.toBe(session.id)
      expect(rotated!.session.data).toEqual({ role: 'admin' })
      expect(rotated!.session.createdAt).toBe(session.createdAt)
      expect(rotated!.session.absoluteExpiresAt).toBe(session.absoluteExpiresAt)
      expect(rotated!.session.version).toBe(2)
      expect(await store.get(token)).toBeNull()
      expect(await inspector.exists(sessionKey(token))).toBe(0)
      expect((await store.get(rotated!.token))!.data).toEqual({ role: 'admin' })
      const members = await inspector.zrange(indexKey(userId), '0', '-1')
      expect(members).toEqual([parseToken(rotated!.token)!.id])
      const list = await store.listForUser(userId)
      expect(list.map((entry) => entry.id)).toEqual([rotated!.session.id])
      expect(list[0]!.device.label).toBe('phone')
    })

    it('keeps the old token readable during the grace period, read-only, then kills it', async () => {
      const userId = user()
      const { token } = await store.create(userId, { step: 1 })
      const rotated = (await store.rotate(token, { graceMs: 2000 }))!
      const old = await store.get(token)
      expect(old!.rotated).toBe(true)
      expect(old!.data).toEqual({ step: 1 })
      await expect(store.update(token, { step: 2 })).rejects.toSatisfy((error) =>
        SessionConflictError.isInstance(error),
      )
      expect(await store.rotate(token)).toBeNull()
      await store.update(rotated.token, { step: 3 })
      expect((await store.listForUser(userId)).map((entry) => entry.id)).toEqual([rotated.session.id])
      const pttl = await inspector.pttl(sessionKey(token))
      expect(pttl).toBeGreaterThan(0)
      expect(pttl).toBeLessThanOrEqual(2000)
      let dead = false
      for (let i = 0; i < 200 && !dead; i++) {
        dead = (await store.get(token)) === null
        if (!dead) await sleep(50)
      }
      expect(dead).toBe(true)
      expect((await store.get(rotated.token))!.data).toEqual({ step: 3 })
    })

    it('destroying the new token also kills the old one still in grace, and the reverse', async () => {
      const first = await store.create(user(), {})
      const second = (await store.rotate(first.token, { graceMs: 60_000 }))!
      expect(await store.destroy(second.token)).toBe(true)
      expect(await store.get(first.token)).toBeNull()
      expect(await inspector.exists(sessionKey(first.token))).toBe(0)

      const third = await store.create(user(), {})
      const fourth = (await store.rotate(third.token, { graceMs: 60_000 }))!
      expect(await store.destroy(third.token)).toBe(true)
      expect(await store.get(fourth.token)).toBeNull()
    })

    it('keeps at most one old token alive: rotating twice ends the first grace', async () => {
      const first = await store.create(user(), {})
      const second = (await store.rotate(first.token, { graceMs: 60_000 }))!
      const third = (await store.rotate(second.token, { graceMs: 60_000 }))!
      expect(await store.get(first.token)).toBeNull()
      expect((await store.get(second.token))!.rotated).toBe(true)
      expect(await store.destroy(third.token)).toBe(true)
      for (const { token } of [first, second, third]) expect(await store.get(token)).toBeNull()
    })

    it('lets exactly one of two concurrent rotations of a token win', async () => {
      const { token } = await store.create(user(), { a: 1 })
      const results = await Promise.all([store.rotate(token), store.rotate(token)])
      const winners = results.filter((result) => result !== null)
      expect(winners).toHaveLength(1)
      expect((await store.get(winners[0]!.token))!.data).toEqual({ a: 1 })
    })

    it('rejects a negative grace', async () => {
      const { token } = await store.create(user(), {})
      await expect(store.rotate(token, { graceMs: -1 })).rejects.toThrow(/graceMs/)
    })
  })

  describe('destroy', () => {
    it('destroys a session and removes it from the index', async () => {
      const userId = user()
      const { token } = await store.create(userId, {})
      expect(await store.destroy(token)).toBe(true)
      expect(await store.get(token)).toBeNull()
      expect(await store.destroy(token)).toBe(false)
      expect(await inspector.zcard(indexKey(userId))).toBe(0)
    })

    it('stays destroyed when destroy races gets, touches and updates', async () => {
      // A generous deadline: this race is about what survives, not about how fast a loaded machine answers.
      const eager = createSessionStore({
        redis,
        prefix: target.prefix,
        touchIntervalMs: 0,
        redisTimeoutMs: 30_000,
      })
      const racers = others.map((client) =>
        createSessionStore({
          redis: client,
          prefix: target.prefix,
          touchIntervalMs: 0,
          redisTimeoutMs: 30_000,
        }),
      )
      for (let round = 0; round < 20; round++) {
        const userId = user()
        const { token } = await eager.create(userId, { n: 0 })
        const work: Array<Promise<unknown>> = []
        for (let i = 0; i < 12; i++) {
          const racer = racers[i % racers.length]!
          work.push(racer.get(token))
          work.push(racer.update(token, { [`f${i}`]: i }).catch(() => null))
          if (i === 6) work.push(eager.destroy(token))
        }
        await Promise.all(work)
        expect(await eager.get(token)).toBeNull()
        expect(await inspector.exists(sessionKey(token))).toBe(0)
        expect(await inspector.zscore(indexKey(userId), parseToken(token)!.id)).toBeNull()
      }
    })

    it('revokes one device by public id, only for its owner', async () => {
      const userId = user()
      const phone = await store.create(userId, {}, { device: { label: 'phone' } })
      const laptop = await store.create(userId, {}, { device: { label: 'laptop' } })
      expect(await store.destroyById('someone-else', phone.session.id)).toBe(false)
      expect(await store.destroyById(userId, 'not-an-id')).toBe(false)
      expect(await store.get(phone.token)).not.toBeNull()
      expect(await store.destroyById(userId, phone.session.id)).toBe(true)
      expect(await store.get(phone.token)).toBeNull()
      expect(await store.get(laptop.token)).not.toBeNull()
      expect((await store.listForUser(userId)).map((entry) => entry.device.label)).toEqual(['laptop'])
    })
  })
})
