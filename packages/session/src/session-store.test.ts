import { createRedis, DecodeError, InvalidArgumentError, serverTime, slotOf } from '@x/redis-core'
import { countCommands, eventually, sleep, targets, useRedis } from '@x/testkit/vitest'
import { beforeAll, describe, expect, it } from 'vitest'
import { SessionDataTooLargeError } from './errors.js'
import { createSessionStore } from './session-store.js'
import { parseToken, tagFor } from './token.js'
import type { SessionStore } from './types.js'

type Data = { email?: string; role?: string; [key: string]: unknown }

// A Cluster client refreshes its topology in the background (CLUSTER SLOTS, INFO): not a session call.
const CONNECTION_COMMANDS = new Set(['cluster', 'info', 'ping', 'hello', 'client', 'select'])
const sessionCommands = (names: string[]) => names.filter((name) => !CONNECTION_COMMANDS.has(name))
describe.each(targets())('session store on $name', (target) => {
  const redis = useRedis(target, createRedis)
  let store: SessionStore<Data>
  let inspector: ReturnType<typeof target.client>
  let userCounter = 0
  const user = () => `user-${++userCounter}@example.com`
  const sessionKey = (token: string) => {
    const parsed = parseToken(token)!
    return `${target.prefix}:{${parsed.tag}}:s:${parsed.id}`
  }
  const indexKey = (userId: string) => `${target.prefix}:{${tagFor(userId)}}:u:${userId}`

  beforeAll(() => {
    store = createSessionStore<Data>({ redis, prefix: target.prefix, touchIntervalMs: 60_000 })
    inspector = target.client()
  })

  it('creates a session with the seed fields, an absolute expiry and a device', async () => {
    const userId = user()
    const { token, session } = await store.create(
      userId,
      { email: 'a@example.com', role: 'admin' },
      { device: { userAgent: 'Firefox', ip: '10.0.0.1', label: 'laptop' } },
    )
    expect(session.userId).toBe(userId)
    expect(session.data).toEqual({ email: 'a@example.com', role: 'admin' })
    expect(session.lastAccess).toBe(session.createdAt)
    expect(session.absoluteExpiresAt).toBe(session.createdAt + 30 * 86_400_000)
    expect(session.idleExpiresAt).toBe(session.createdAt + 7 * 86_400_000)
    expect(session.version).toBe(1)
    expect(session.id).toBe(token.split('.').slice(0, 2).join('.'))
    const read = await store.get(token)
    expect(read).toEqual({ ...session, rotated: false })
  })

  it('uses the Redis clock for createdAt', async () => {
    const before = await serverTime(redis)
    const { session } = await store.create(user(), {})
    const after = await serverTime(redis)
    expect(session.createdAt).toBeGreaterThanOrEqual(before)
    expect(session.createdAt).toBeLessThanOrEqual(after)
  })

  it('keeps the session and its user index in one hash slot', async () => {
    const userId = user()
    const { token } = await store.create(userId, {})
    expect(slotOf(sessionKey(token))).toBe(slotOf(indexKey(userId)))
    expect(await inspector.exists(sessionKey(token))).toBe(1)
    expect(await inspector.zscore(indexKey(userId), parseToken(token)!.id)).not.toBeNull()
  })

  it('reads a session in one round trip', async () => {
    const { token } = await store.create(user(), { role: 'x' })
    // The first call on a node may meet NOSCRIPT and fall back to EVAL once; count the steady state.
    await store.get(token)
    const { names } = await countCommands(redis, async () => {
      expect(await store.get(token)).not.toBeNull()
    })
    expect(names).toEqual(['evalsha'])
  })

  it('writes nothing on a read within the touch interval', async () => {
    const { token } = await store.create(user(), { role: 'x' })
    const key = sessionKey(token)
    const before = await inspector.hgetall(key)
    const expiry = await inspector.pexpiretime(key)
    await sleep(20)
    for (let i = 0; i < 5; i++) expect(await store.get(token)).not.toBeNull()
    expect(await inspector.hgetall(key)).toEqual(before)
    expect(await inspector.pexpiretime(key)).toBe(expiry)
  })

  it('slides the idle expiry after the touch interval without rewriting the data', async () => {
    const sliding = createSessionStore<Data>({
      redis,
      prefix: target.prefix,
      idleTimeoutMs: 60_000,
      touchIntervalMs: 10,
    })
    const userId = user()
    const { token, session } = await sliding.create(userId, { role: 'x' })
    const key = sessionKey(token)
    const data = await inspector.hget(key, 'd')
    const expiry = await inspector.pexpiretime(key)
    await sleep(30)
    const read = await sliding.get(token)
    expect(read!.lastAccess).toBeGreaterThan(session.lastAccess)
    expect(read!.idleExpiresAt).toBe(read!.lastAccess + 60_000)
    expect(await inspector.pexpiretime(key)).toBe(read!.idleExpiresAt)
    expect(await inspector.pexpiretime(key)).toBeGreaterThan(expiry)
    expect(Number(await inspector.zscore(indexKey(userId), parseToken(token)!.id))).toBe(read!.idleExpiresAt)
    expect(await inspector.hget(key, 'd')).toBe(data)
    expect(await inspector.hget(key, 'v')).toBe('1')
  })

  it.each([
    ['an empty string', ''],
    ['a random word', 'hello'],
    ['a number', 42],
    ['null', null],
    ['an object', { token: 'x' }],
    ['a token with a bad tag', 'AAAAA.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['a token with braces', '{AAAA}.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['an over-long token', `AAAAAA.AAAAAAAAAAAAAAAA.${'A'.repeat(500)}`],
    ['a token with a newline', 'AAAAAA.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n'],
  ])('returns null without a Redis call for %s', async (_, token) => {
    const { names } = await countCommands(redis, async () => {
      expect(await store.get(token as string)).toBeNull()
      expect(await store.destroy(token as string)).toBe(false)
      expect(await store.update(token as string, { role: 'x' })).toBeNull()
      expect(await store.rotate(token as string)).toBeNull()
    })
    expect(sessionCommands(names)).toEqual([])
  })

  it('returns null for a truncated token without a Redis call', async () => {
    const { token } = await store.create(user(), {})
    const { names } = await countCommands(redis, async () => {
      expect(await store.get(token.slice(0, -30))).toBeNull()
      expect(await store.get(token.slice(0, 20))).toBeNull()
    })
    expect(sessionCommands(names)).toEqual([])
  })

  it('returns null for a forged secret and leaves the session untouched', async () => {
    const sliding = createSessionStore<Data>({ redis, prefix: target.prefix, touchIntervalMs: 0 })
    const { token } = await sliding.create(user(), { role: 'admin' })
    const key = sessionKey(token)
    const before = await inspector.hgetall(key)
    const [tag, id, secret] = token.split('.') as [string, string, string]
    const flipped = secret.slice(0, -1) + (secret.endsWith('A') ? 'B' : 'A')
    const forged = [`${tag}.${id}.${flipped}`, `${tag}.${id}.${'A'.repeat(secret.length)}`]
    await sleep(5)
    for (const attempt of forged) {
      expect(await sliding.get(attempt)).toBeNull()
      expect(await sliding.update(attempt, { role: 'root' })).toBeNull()
      expect(await sliding.rotate(attempt)).toBeNull()
      expect(await sliding.destroy(attempt)).toBe(false)
    }
    expect(await inspector.hgetall(key)).toEqual(before)
    expect((await sliding.get(token))!.data.role).toBe('admin')
  })

  it('keeps neither the token nor its secret anywhere in Redis', async () => {
    const userId = user()
    const first = await store.create(userId, { email: 'dump@example.com' }, { device: { ip: '1.2.3.4' } })
    const rotated = await store.rotate(first.token, { graceMs: 10_000 })
    const second = await store.create(userId, { email: 'dump@example.com' })
    await store.update(second.token, { role: 'x' })
    const tokens = [first.token, rotated!.token, second.token]
    const secrets = tokens.map((token) => token.split('.')[2]!)
    const forms = secrets.flatMap((secret) => [
      secret,
      Buffer.from(secret, 'base64url').toString('hex'),
      Buffer.from(secret, 'base64url').toString('base64'),
    ])
    const nodes = 'nodes' in inspector ? inspector.nodes('master') : [inspector]
    let dumped = ''
    let keyCount = 0
    for (const node of nodes) {
      let cursor = '0'
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${target.prefix}:*`, 'COUNT', 500)
        cursor = next
        for (const key of keys) {
          keyCount++
          const type = await node.type(key)
          const value =
            type === 'hash'
              ? await node.hgetall(key)
              : type === 'zset'
                ? await node.zrange(key, '0', '-1', 'WITHSCORES')
                : await node.get(key)
          dumped += `${key}\n${JSON.stringify(value)}\n`
          const raw = await node.dumpBuffer(key)
          dumped += `${raw?.toString('latin1')}\n`
        }
      } while (cursor !== '0')
    }
    expect(keyCount).toBeGreaterThanOrEqual(4)
    expect(dumped).toContain('dump@example.com')
    for (const token of tokens) expect(dumped).not.toContain(token)
    for (const form of forms) expect(dumped).not.toContain(form)
  })

  it('refuses oversized data with a clear error and writes nothing', async () => {
    const small = createSessionStore<Data>({ redis, prefix: target.prefix, maxDataBytes: 200 })
    const userId = user()
    await expect(small.create(userId, { blob: 'x'.repeat(300) })).rejects.toSatisfy(
      (error) =>
        SessionDataTooLargeError.isInstance(error) && /maxDataBytes \(200\)/.test((error as Error).message),
    )
    expect(await inspector.exists(indexKey(userId))).toBe(0)
    const { token } = await small.create(userId, { role: 'x' })
    await expect(small.update(token, { blob: 'x'.repeat(300) })).rejects.toBeInstanceOf(
      SessionDataTooLargeError,
    )
    expect((await small.get(token))!.data).toEqual({ role: 'x' })
    expect((await small.get(token))!.version).toBe(1)
  })

  it.each([
    ['an empty user id', '', {}],
    ['a user id with a newline', 'a\nb', {}],
    ['an array as data', 'u', []],
    ['a string as data', 'u', 'text'],
    ['BigInt data', 'u', { n: 1n }],
  ])('rejects %s with InvalidArgumentError or EncodeError and no Redis call', async (_, userId, data) => {
    const { names } = await countCommands(redis, async () => {
      await expect(store.create(userId, data as Data)).rejects.toSatisfy(
        (error) => InvalidArgumentError.isInstance(error) || (error as { code?: string }).code === 'E_ENCODE',
      )
    })
    expect(sessionCommands(names)).toEqual([])
  })

  it.each([
    ['idleTimeoutMs 0', { idleTimeoutMs: 0 }, /idleTimeoutMs/],
    ['negative absoluteTimeoutMs', { absoluteTimeoutMs: -1 }, /absoluteTimeoutMs/],
    ['touchIntervalMs >= idleTimeoutMs', { idleTimeoutMs: 1000, touchIntervalMs: 1000 }, /touchIntervalMs/],
    ['a prefix with braces', { prefix: 'a{b}' }, /prefix/],
    ['NaN redisTimeoutMs', { redisTimeoutMs: Number.NaN }, /redisTimeoutMs/],
    ['a string duration', { idleTimeoutMs: '5m' }, /idleTimeoutMs/],
    ['the old name idleTimeout', { idleTimeout: 1000 }, /idleTimeoutMs/],
    ['the old name timeout', { timeout: 300 }, /redisTimeoutMs/],
    ['the old option onError', { onError: () => {} }, /error/],
  ])('rejects options with %s, naming the option', (_, options, name) => {
    expect(() => createSessionStore({ redis, ...(options as object) })).toThrow(InvalidArgumentError)
    expect(() => createSessionStore({ redis, ...(options as object) })).toThrow(name)
  })

  it('dies at its idle timeout, by Redis expiry and in code', async () => {
    const short = createSessionStore<Data>({
      redis,
      prefix: target.prefix,
      idleTimeoutMs: 300,
      touchIntervalMs: 50,
    })
    const userId = user()
    const { token } = await short.create(userId, { role: 'x' })
    const key = sessionKey(token)
    expect(await inspector.pttl(key)).toBeGreaterThan(0)
    expect(await inspector.pttl(key)).toBeLessThanOrEqual(300)
    await eventually(async () => (await inspector.exists(key)) === 0, 5000)
    expect(await short.get(token)).toBeNull()
    expect(await short.listForUser(userId)).toEqual([])
  })

  it('dies at its absolute lifetime even when used all the time', async () => {
    const bounded = createSessionStore<Data>({
      redis,
      prefix: target.prefix,
      idleTimeoutMs: 2000,
      absoluteTimeoutMs: 4000,
      touchIntervalMs: 0,
    })
    const { token, session } = await bounded.create(user(), {})
    let lastAlive = 0
    let deadAt = 0
    for (let i = 0; i < 300 && deadAt === 0; i++) {
      const read = await bounded.get(token)
      const now = await serverTime(redis)
      if (read) {
        lastAlive = read.lastAccess
        expect(read.idleExpiresAt).toBeLessThanOrEqual(session.absoluteExpiresAt)
      } else deadAt = now
      await sleep(100)
    }
    expect(deadAt).toBeGreaterThanOrEqual(session.absoluteExpiresAt)
    // It outlived its idle timeout thanks to the touches, and still died at the absolute limit.
    expect(lastAlive).toBeGreaterThan(session.createdAt + 2000)
    expect(await bounded.get(token)).toBeNull()
  })

  it('enforces the absolute lifetime in code when the key outlives it', async () => {
    const bounded = createSessionStore<Data>({ redis, prefix: target.prefix, absoluteTimeoutMs: 1000 })
    const { token, session } = await bounded.create(user(), {})
    const key = sessionKey(token)
    // Simulate a key whose Redis expiry was lost (PERSIST by an operator, an old replica).
    expect(await inspector.persist(key)).toBe(1)
    await eventually(async () => (await serverTime(redis)) > session.absoluteExpiresAt, 5000)
    expect(await inspector.exists(key)).toBe(1)
    expect(await bounded.get(token)).toBeNull()
    expect(await inspector.exists(key)).toBe(0)
  })

  it('enforces the idle timeout in code when the key outlives it', async () => {
    const short = createSessionStore<Data>({
      redis,
      prefix: target.prefix,
      idleTimeoutMs: 1000,
      touchIntervalMs: 100,
    })
    const userId = user()
    const { token, session } = await short.create(userId, {})
    const key = sessionKey(token)
    expect(await inspector.persist(key)).toBe(1)
    await eventually(async () => (await serverTime(redis)) > session.idleExpiresAt, 5000)
    expect(await short.get(token)).toBeNull()
    expect(await inspector.exists(key)).toBe(0)
    expect(await inspector.zscore(indexKey(userId), parseToken(token)!.id)).toBeNull()
  })

  it('treats corrupt stored data as a miss and reports it', async () => {
    const errors: Array<{ operation: string; error: Error; key?: string }> = []
    const reporting = createSessionStore<Data>({ redis, prefix: target.prefix })
    reporting.on('error', (payload) => {
      errors.push(payload)
    })
    const { token, session } = await reporting.create(user(), { role: 'x' })
    await inspector.hset(sessionKey(token), 'd', 't{not json')
    expect(await reporting.get(token)).toBeNull()
    expect(errors).toHaveLength(1)
    expect(errors[0]!.operation).toBe('get')
    expect(errors[0]!.key).toBe(session.id)
    expect(DecodeError.isInstance(errors[0]!.error)).toBe(true)
    expect(JSON.stringify(errors[0]!.error.message)).not.toContain(token.split('.')[2])
  })

  it('stores binary codec output intact', async () => {
    const binary = createSessionStore<Data>({
      redis,
      prefix: target.prefix,
      codec: {
        name: 'bytes',
        encode: (value) => Buffer.concat([Buffer.from([0xff, 0x00]), Buffer.from(JSON.stringify(value))]),
        decode: (raw) => JSON.parse((raw as Buffer).subarray(2).toString()),
      },
    })
    const { token } = await binary.create(user(), { role: 'bytes' })
    expect((await binary.get(token))!.data).toEqual({ role: 'bytes' })
  })

  it('reads data that contains the reply separator', async () => {
    const odd = createSessionStore<Data>({
      redis,
      prefix: target.prefix,
      codec: {
        name: 'odd',
        encode: (value) => `\u001f${JSON.stringify(value)}\u001f`,
        decode: (raw) => JSON.parse(String(raw).slice(1, -1)),
      },
    })
    const { token } = await odd.create(user(), { note: 'a\u001fb' })
    expect((await odd.get(token))!.data).toEqual({ note: 'a\u001fb' })
  })
})
