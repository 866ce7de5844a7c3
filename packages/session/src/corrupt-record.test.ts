import { createRedis } from '@x/redis-core'
import { targets, useRedis } from '@x/testkit/vitest'
import { beforeAll, describe, expect, it } from 'vitest'
import { createSessionStore } from './session-store.js'
import { parseToken } from './token.js'
import type { SessionStore } from './types.js'

// A session hash written by an older layout or edited by hand may lack a field or hold a
// non-number where a number belongs. Every operation must treat it as "not found" (and remove
// it), never fail with a raw Lua error.
const corruptions: Array<{ name: string; field: string; value?: string }> = [
  ...['a', 'x', 'c', 'v', 'u', 'd'].map((field) => ({ name: `without "${field}"`, field })),
  ...['a', 'x', 'c', 'v'].map((field) => ({ name: `with a non-numeric "${field}"`, field, value: 'abc' })),
  { name: 'with an infinite "x"', field: 'x', value: 'inf' },
]

describe.each(targets())('corrupt session records on $name', (target) => {
  const redis = useRedis(target, createRedis)
  let store: SessionStore
  let inspector: ReturnType<typeof target.client>
  let userCounter = 0
  const sessionKey = (token: string) => {
    const parsed = parseToken(token)!
    return `${target.prefix}:{${parsed.tag}}:s:${parsed.id}`
  }

  beforeAll(() => {
    store = createSessionStore({ redis, prefix: target.prefix })
    inspector = target.client()
  })

  const broken = async (corruption: (typeof corruptions)[number], userId: string) => {
    const { token } = await store.create(userId, { role: 'user' })
    const key = sessionKey(token)
    if (corruption.value === undefined) await inspector.hdel(key, corruption.field)
    else await inspector.hset(key, corruption.field, corruption.value)
    return { token, key }
  }

  it.each(corruptions)('a record $name reads as not found and is removed', async (corruption) => {
    const userId = `corrupt-${++userCounter}`
    const reads = [
      (token: string) => store.get(token),
      (token: string) => store.update(token, { role: 'admin' }),
      (token: string) => store.rotate(token),
    ]
    for (const read of reads) {
      const { token, key } = await broken(corruption, userId)
      expect(await read(token)).toBeNull()
      expect(await inspector.exists(key)).toBe(0)
    }

    const listed = await broken(corruption, userId)
    const healthy = await store.create(userId, { role: 'user' })
    const sessions = await store.listForUser(userId)
    expect(sessions.map((session) => session.id)).toEqual([healthy.session.id])
    expect(await inspector.exists(listed.key)).toBe(0)

    const destroyed = await broken(corruption, userId)
    await expect(store.destroy(destroyed.token)).resolves.toBeTypeOf('boolean')
    expect(await inspector.exists(destroyed.key)).toBe(0)

    const revoked = await broken(corruption, userId)
    await expect(store.destroyForUser(userId)).resolves.toBeGreaterThanOrEqual(1)
    expect(await inspector.exists(revoked.key)).toBe(0)
    expect(await store.get(healthy.token)).toBeNull()
  })
})
