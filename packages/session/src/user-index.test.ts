import { createRedis, serverTime } from '@x/redis-core'
import { eventually, targets, useRedis } from '@x/testkit/vitest'
import { beforeAll, describe, expect, it } from 'vitest'
import { createSessionStore } from './session-store.js'
import { tagFor } from './token.js'
import type { SessionStore } from './types.js'

describe.each(targets())('per-user index on $name', (target) => {
  const redis = useRedis(target, createRedis)
  const others = Array.from({ length: 3 }, () => useRedis(target, createRedis))
  let store: SessionStore
  let inspector: ReturnType<typeof target.client>
  let userCounter = 0
  const user = () => `index-${++userCounter}`
  const indexKey = (userId: string) => `${target.prefix}:{${tagFor(userId)}}:u:${userId}`

  beforeAll(() => {
    store = createSessionStore({ redis, prefix: target.prefix })
    inspector = target.client()
  })

  it('lists sessions with device metadata and marks the current one', async () => {
    const userId = user()
    const phone = await store.create(
      userId,
      {},
      { device: { userAgent: 'Mobile Safari', ip: '10.1.1.1', label: 'phone' } },
    )
    const laptop = await store.create(userId, {}, { device: { userAgent: 'Firefox' } })
    const list = await store.listForUser(userId, { current: laptop.token })
    expect(list).toHaveLength(2)
    const byId = new Map(list.map((entry) => [entry.id, entry]))
    expect(byId.get(phone.session.id)).toEqual({
      id: phone.session.id,
      createdAt: phone.session.createdAt,
      lastSeen: phone.session.createdAt,
      idleExpiresAt: phone.session.idleExpiresAt,
      absoluteExpiresAt: phone.session.absoluteExpiresAt,
      device: { userAgent: 'Mobile Safari', ip: '10.1.1.1', label: 'phone' },
      current: false,
    })
    expect(byId.get(laptop.session.id)!.device).toEqual({ userAgent: 'Firefox' })
    expect(byId.get(laptop.session.id)!.current).toBe(true)
  })

  it('shows last seen after a touch', async () => {
    const eager = createSessionStore({ redis, prefix: target.prefix, touchIntervalMs: 0 })
    const userId = user()
    const { token, session } = await eager.create(userId, {})
    await eventually(async () => (await serverTime(redis)) > session.createdAt + 5)
    const read = await eager.get(token)
    const [entry] = await eager.listForUser(userId)
    expect(entry!.lastSeen).toBe(read!.lastAccess)
    expect(entry!.lastSeen).toBeGreaterThan(session.createdAt)
  })

  it('cuts long device fields and rejects non-string ones', async () => {
    const userId = user()
    await store.create(userId, {}, { device: { userAgent: 'x'.repeat(2000), label: 'y'.repeat(500) } })
    const [entry] = await store.listForUser(userId)
    expect(entry!.device.userAgent).toHaveLength(512)
    expect(entry!.device.label).toHaveLength(128)
    await expect(store.create(userId, {}, { device: { ip: 5 as unknown as string } })).rejects.toThrow(
      /device.ip/,
    )
  })

  it('never grows without bound: 1,000 expired sessions and one new one leave one entry', async () => {
    const userId = user()
    // Long enough that all 1,000 exist at once even on a loaded machine, short enough to wait for.
    const shortLived = createSessionStore({
      redis,
      prefix: target.prefix,
      idleTimeoutMs: 8000,
      touchIntervalMs: 0,
    })
    let last = 0
    for (let batch = 0; batch < 10; batch++) {
      const created = await Promise.all(Array.from({ length: 100 }, () => shortLived.create(userId, {})))
      for (const { session } of created) last = Math.max(last, session.idleExpiresAt)
    }
    expect(await inspector.zcard(indexKey(userId))).toBe(1000)
    await eventually(async () => (await serverTime(redis)) > last, 15_000, 100)
    // Dead sessions are never listed, even before anything pruned them.
    expect(await store.listForUser(userId)).toEqual([])
    await store.create(userId, {})
    expect(await inspector.zcard(indexKey(userId))).toBe(1)
    expect(await store.listForUser(userId)).toHaveLength(1)
  })

  it('skips and prunes an index entry whose session key is gone', async () => {
    const userId = user()
    const gone = await store.create(userId, {})
    const kept = await store.create(userId, {})
    const [tag, id] = gone.session.id.split('.') as [string, string]
    await inspector.unlink(`${target.prefix}:{${tag}}:s:${id}`)
    expect((await store.listForUser(userId)).map((entry) => entry.id)).toEqual([kept.session.id])
    expect(await inspector.zscore(indexKey(userId), id)).toBeNull()
  })

  it('prunes expired entries when a session is created', async () => {
    const userId = user()
    const shortLived = createSessionStore({
      redis,
      prefix: target.prefix,
      idleTimeoutMs: 200,
      touchIntervalMs: 0,
    })
    const { session } = await shortLived.create(userId, {})
    await eventually(async () => (await serverTime(redis)) > session.idleExpiresAt)
    await store.create(userId, {})
    expect(await inspector.zcard(indexKey(userId))).toBe(1)
  })

  it('gives the index an expiry no earlier than its latest session', async () => {
    const userId = user()
    const { session } = await store.create(userId, {})
    expect(await inspector.pexpiretime(indexKey(userId))).toBe(session.idleExpiresAt)
    const shortLived = createSessionStore({
      redis,
      prefix: target.prefix,
      idleTimeoutMs: 1000,
      touchIntervalMs: 0,
    })
    await shortLived.create(userId, {})
    expect(await inspector.pexpiretime(indexKey(userId))).toBe(session.idleExpiresAt)
  })

  it('evicts the sessions closest to expiry beyond maxSessionsPerUser', async () => {
    const capped = createSessionStore({ redis, prefix: target.prefix, maxSessionsPerUser: 3 })
    const userId = user()
    const created: Array<{ token: string; session: { createdAt: number } }> = []
    for (let i = 0; i < 5; i++) {
      created.push(await capped.create(userId, { i }))
      // Expiry scores have millisecond resolution; distinct milliseconds make the order certain.
      await eventually(async () => (await serverTime(redis)) > created[i]!.session.createdAt)
    }
    expect(await inspector.zcard(indexKey(userId))).toBe(3)
    const alive = await Promise.all(created.map(({ token }) => capped.get(token)))
    expect(alive.map((session) => session !== null)).toEqual([false, false, true, true, true])
  })

  it('destroys all sessions of a user but the current one', async () => {
    const userId = user()
    const sessions = await Promise.all(Array.from({ length: 5 }, () => store.create(userId, {})))
    const otherUser = await store.create(user(), {})
    const current = sessions[2]!
    expect(await store.destroyForUser(userId, { except: current.token })).toBe(4)
    const alive = await Promise.all(sessions.map(({ token }) => store.get(token)))
    expect(alive.map((session) => session !== null)).toEqual([false, false, true, false, false])
    expect((await store.listForUser(userId)).map((entry) => entry.id)).toEqual([current.session.id])
    expect(await store.get(otherUser.token)).not.toBeNull()
    expect(await store.destroyForUser(userId)).toBe(1)
    expect(await store.get(current.token)).toBeNull()
    expect(await inspector.exists(indexKey(userId))).toBe(0)
  })

  it('ignores an except token that belongs to another user or has a forged secret', async () => {
    const userId = user()
    const mine = await store.create(userId, {})
    const foreign = await store.create(user(), {})
    expect(await store.destroyForUser(userId, { except: foreign.token })).toBe(1)
    expect(await store.get(foreign.token)).not.toBeNull()
    const again = await store.create(userId, {})
    const forged = `${again.token.split('.').slice(0, 2).join('.')}.${'A'.repeat(43)}`
    expect(await store.destroyForUser(userId, { except: forged })).toBe(1)
    expect(await store.get(again.token)).toBeNull()
    expect(await store.get(mine.token)).toBeNull()
  })

  it('kills sessions in a rotation grace period too, but keeps the successor of an except token', async () => {
    const userId = user()
    const a = await store.create(userId, {})
    const aNext = (await store.rotate(a.token, { graceMs: 60_000 }))!
    const b = await store.create(userId, {})
    const bNext = (await store.rotate(b.token, { graceMs: 60_000 }))!
    // The browser still sends b's old cookie in a request that was in flight during the rotation.
    await store.destroyForUser(userId, { except: b.token })
    expect(await store.get(a.token)).toBeNull()
    expect(await store.get(aNext.token)).toBeNull()
    expect(await store.get(bNext.token)).not.toBeNull()
  })

  it('destroyForUser racing logins: every session created before it is gone, none created after it is', async () => {
    const stores = others.map((client) => createSessionStore({ redis: client, prefix: target.prefix }))
    for (let round = 0; round < 5; round++) {
      const userId = user()
      const before = await Promise.all(
        Array.from({ length: 20 }, (_, i) => stores[i % 3]!.create(userId, {})),
      )
      const concurrent = Array.from({ length: 30 }, (_, i) => stores[i % 3]!.create(userId, { racing: i }))
      const destroyed = store.destroyForUser(userId)
      const racing = await Promise.all(concurrent)
      const count = await destroyed
      const after = await Promise.all(Array.from({ length: 5 }, () => stores[0]!.create(userId, {})))

      for (const { token } of before) expect(await store.get(token)).toBeNull()
      for (const { token } of after) expect(await store.get(token)).not.toBeNull()
      const racingAlive = (await Promise.all(racing.map(({ token }) => store.get(token)))).filter(Boolean)
      // Each racing login was either before the atomic revoke (destroyed) or after it (alive).
      expect(count).toBe(before.length + racing.length - racingAlive.length)
      const listed = new Set((await store.listForUser(userId)).map((entry) => entry.id))
      expect(listed.size).toBe(racingAlive.length + after.length)
      for (const session of racingAlive) expect(listed.has(session!.id)).toBe(true)
    }
  })
})
