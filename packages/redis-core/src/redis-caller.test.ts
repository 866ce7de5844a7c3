import { randomBytes } from 'node:crypto'
import { type RedisCluster, type RedisServer, startCluster, startRedis } from '@x/testkit'
import { countCommands, targets, useRedis } from '@x/testkit/vitest'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { masters, slotOf } from './cluster.js'
import { createRedis } from './create-redis.js'
import { defineScript } from './define-script.js'
import { InvalidArgumentError, RedisUnavailableError, TimeoutError } from './errors.js'
import { keyspace } from './keyspace.js'
import { waitForReady } from './ready.js'
import { createRedisCaller } from './redis-caller.js'

// A comment unique to this run gives the scripts SHAs no other test file loads or flushes.
const tag = `-- run ${randomBytes(6).toString('hex')}\n`

// KEYS[1] counter; ARGV[1] increment. Returns the new value.
const incrBy = defineScript<{ keys: [counter: string]; args: [by: number]; result: number }>({
  name: 'test:incr-by',
  keys: 1,
  lua: `${tag}return redis.call('INCRBY', KEYS[1], ARGV[1])`,
})

// KEYS[1] any key; ARGV[1] 'fail' to answer an error, else echoed back with the key.
const echoOrFail = defineScript<{ keys: [key: string]; args: [mode: string]; result: [string, string] }>({
  name: 'test:echo-or-fail',
  keys: 1,
  lua: `${tag}if ARGV[1] == 'fail' then return redis.error_reply('ERR asked to fail') end
return { KEYS[1], ARGV[1] }`,
})

describe.each(targets())('createRedisCaller on $name', (target) => {
  const redis = useRedis(target, createRedis)
  const keys = keyspace(target.prefix)
  const caller = createRedisCaller(redis, { timeoutMs: 10_000 })
  // Before a Cluster knows its slots, ioredis sends commands to any node and follows the MOVED
  // replies, which reorders them; ordering is a property of a connected client.
  beforeAll(() => waitForReady(redis, 20_000))

  it('keeps the order of many concurrent calls', async () => {
    // A plain client: the order is the caller's to keep, not a property of createRedis's settings.
    const plain = target.client()
    await waitForReady(plain, 20_000)
    const ordered = createRedisCaller(plain, { timeoutMs: 10_000 })
    const key = keys.key('order')
    const replies = await Promise.all(Array.from({ length: 500 }, () => ordered.call<number>('INCR', key)))
    expect(replies).toEqual(Array.from({ length: 500 }, (_, index) => index + 1))
  })

  it('answers every one of many concurrent script calls once', async () => {
    // Other files flush scripts on the shared servers: a call answered NOSCRIPT is sent again behind
    // the calls already sent, so script replies are checked as a set here and in order above.
    const key = keys.key('script-order')
    const replies = await Promise.all(Array.from({ length: 500 }, () => caller.script(incrBy, [key], [1])))
    expect([...replies].sort((a, b) => a - b)).toEqual(Array.from({ length: 500 }, (_, index) => index + 1))
  })

  it('answers calls across every master (keys of many slots)', async () => {
    const names = Array.from({ length: 300 }, (_, index) => keys.key(`slot-${index}`))
    const replies = await Promise.all(
      names.map((name, index) => caller.script(echoOrFail, [name], [`v${index}`])),
    )
    expect(replies).toEqual(names.map((name, index) => [name, `v${index}`]))
    if (target.name === 'cluster') expect(masters(redis)).toHaveLength(3)
  })

  it('rejects only the calls that failed in the middle of a batch', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 60 }, (_, index) =>
        caller.script(echoOrFail, [keys.key('mixed')], [index % 5 === 2 ? 'fail' : `ok${index}`]),
      ),
    )
    results.forEach((result, index) => {
      if (index % 5 === 2) {
        expect(result.status).toBe('rejected')
        expect(String((result as PromiseRejectedResult).reason?.message)).toContain('asked to fail')
      } else {
        expect(result).toEqual({ status: 'fulfilled', value: [keys.key('mixed'), `ok${index}`] })
      }
    })
  })

  it('costs exactly two commands (EVALSHA, EVAL) on a node that lost the script', async () => {
    const key = keys.key('cold')
    await caller.script(incrBy, [key], [1])
    await Promise.all(masters(redis).map((node) => node.script('FLUSH')))
    // Counted at the client: MONITOR on servers other files use at the same time is not exact
    // (the private-server test below counts what reached the server).
    const evalsha = vi.spyOn(redis, 'evalsha')
    const evalLua = vi.spyOn(redis, 'eval')
    try {
      expect(await caller.script(incrBy, [key], [1])).toBe(2)
      expect(evalsha).toHaveBeenCalledTimes(1)
      expect(evalLua).toHaveBeenCalledTimes(1)
    } finally {
      evalsha.mockRestore()
      evalLua.mockRestore()
    }
  })

  it('runs plain commands through call() and run()', async () => {
    const key = keys.key('plain')
    expect(await caller.call('SET', key, 'v')).toBe('OK')
    expect(await caller.call<string>('GET', key)).toBe('v')
    expect(await caller.run(() => redis.get(key), 'GET')).toBe('v')
    expect(await caller.run(redis.strlen(key), 'STRLEN')).toBe(1)
  })

  it('rejects a wrong number of keys without sending anything and without throwing', async () => {
    const wrong = caller.script(incrBy, [] as unknown as [string], [1])
    await expect(wrong).rejects.toThrow(InvalidArgumentError)
    await expect(wrong).rejects.toThrow(/takes 1 keys, got 0/)
  })

  it('answers a synchronous throw of the client as a typed rejection', async () => {
    const spy = vi.spyOn(redis, 'evalsha').mockImplementation(() => {
      throw new Error('Connection is closed.')
    })
    try {
      let promise: Promise<unknown> | undefined
      expect(() => {
        promise = caller.script(incrBy, [keys.key('sync')], [1])
      }).not.toThrow()
      await expect(promise).rejects.toThrow(RedisUnavailableError)
    } finally {
      spy.mockRestore()
    }
  })
})

describe('createRedisCaller deadlines and connections (private server)', () => {
  let server: RedisServer
  beforeAll(async () => {
    server = await startRedis()
  })
  afterAll(() => server.stop())

  it('gives up after timeoutMs on a paused server, whatever the client has as commandTimeout', async () => {
    // A plain client without commandTimeout: only the caller's deadline can end these calls.
    const redis = server.client()
    await redis.ping()
    const caller = createRedisCaller(redis, { timeoutMs: 200 })
    server.pause()
    try {
      const calls = [
        caller.script(incrBy, ['paused'], [1]),
        caller.call('GET', 'paused'),
        caller.run(() => redis.get('paused'), 'GET'),
      ]
      for (const call of calls) {
        const error = await call.then(
          () => undefined,
          (reason: unknown) => reason,
        )
        expect(TimeoutError.isInstance(error)).toBe(true)
        expect((error as TimeoutError).timeoutMs).toBe(200)
      }
    } finally {
      server.resume()
    }
    // The late replies are dropped; the client answers again (a generous deadline: the resumed
    // server first works through the backlog).
    const patient = createRedisCaller(redis, { timeoutMs: 20_000 })
    expect(await patient.script(incrBy, ['paused'], [1])).toBeGreaterThan(0)
  })

  it('costs exactly two commands after SCRIPT FLUSH, then one', async () => {
    const redis = server.client()
    const caller = createRedisCaller(redis)
    await caller.script(incrBy, ['flushed'], [1])
    await redis.script('FLUSH')
    const cold = await countCommands(redis, () => caller.script(incrBy, ['flushed'], [1]))
    expect(cold.names).toEqual(['evalsha', 'eval'])
    const warm = await countCommands(redis, () => caller.script(incrBy, ['flushed'], [1]))
    expect(warm.names).toEqual(['evalsha'])
  })

  it('settles every call of a batch cut by CLIENT KILL with its reply or RedisUnavailableError', async () => {
    const redis = createRedis({ url: server.url })
    const admin = server.client()
    try {
      const caller = createRedisCaller(redis, { timeoutMs: 10_000 })
      await caller.script(incrBy, ['killed'], [0])
      const id = await redis.client('ID')
      // The first call keeps the server busy, so the kill lands among the calls queued behind it.
      const slow = defineScript<{ keys: [key: string]; args: []; result: number }>({
        name: 'test:slow',
        keys: 1,
        lua: `${tag}local n = 0 for i = 1, 3000000 do n = n + 1 end return n`,
      })
      const batch = [
        caller.script(slow, ['killed']),
        ...Array.from({ length: 200 }, () => caller.script(incrBy, ['killed'], [1])),
      ]
      const settled = Promise.allSettled(batch)
      await admin.client('KILL', 'ID', String(id))
      const results = await settled
      const replies: number[] = []
      for (const result of results.slice(1)) {
        if (result.status === 'fulfilled') replies.push(result.value)
        else expect(RedisUnavailableError.isInstance(result.reason)).toBe(true)
      }
      // The calls that were answered were answered in order.
      expect(replies).toEqual([...replies].sort((a, b) => a - b))
      // And the client works again after its reconnect.
      await vi.waitFor(() => expect(redis.status).toBe('ready'), { timeout: 20_000 })
      expect(await caller.script(incrBy, ['killed'], [0])).toBeGreaterThanOrEqual(replies.length)
    } finally {
      redis.disconnect()
    }
  })
})

describe('write coalescing', () => {
  const [server] = targets()
  const redis = useRedis(
    server as NonNullable<typeof server>,
    (connection) => new Redis((connection as { url: string }).url),
  )

  it('writes a lone call at once, uncorked: nothing waits for I/O, a timer or the next tick', async () => {
    await redis.ping()
    const stream = (redis as unknown as { stream: import('node:net').Socket }).stream
    const caller = createRedisCaller(redis)
    const reply = caller.call('PING')
    expect(stream.writableCorked).toBe(0)
    expect(await reply).toBe('PONG')
  })

  it('corks from the second call of a tick until the next tick', async () => {
    await redis.ping()
    const stream = (redis as unknown as { stream: import('node:net').Socket }).stream
    const caller = createRedisCaller(redis)
    const replies = [caller.call('ECHO', 'a'), caller.call('ECHO', 'b')]
    expect(stream.writableCorked).toBe(1)
    await new Promise<void>((resolve) => process.nextTick(resolve))
    expect(stream.writableCorked).toBe(0)
    expect(stream.writableLength).toBe(0)
    expect(await Promise.all(replies)).toEqual(['a', 'b'])
  })

  it('flushes every 16 corked calls of one tick and once more at its end', async () => {
    await redis.ping()
    const stream = (redis as unknown as { stream: import('node:net').Socket }).stream
    const uncork = vi.spyOn(stream, 'uncork')
    try {
      const caller = createRedisCaller(redis)
      const replies = Array.from({ length: 40 }, (_, index) => caller.call('ECHO', String(index)))
      expect(uncork).toHaveBeenCalledTimes(2)
      await new Promise<void>((resolve) => process.nextTick(resolve))
      expect(uncork).toHaveBeenCalledTimes(3)
      expect(await Promise.all(replies)).toEqual(Array.from({ length: 40 }, (_, index) => String(index)))
    } finally {
      uncork.mockRestore()
    }
  })

  it('leaves a client that is not ready alone (no cork on a socket that is not there)', async () => {
    const lazy = new Redis(server?.connection && 'url' in server.connection ? server.connection.url : '', {
      lazyConnect: true,
    })
    try {
      const caller = createRedisCaller(lazy, { timeoutMs: 5000 })
      const reply = caller.call('PING')
      await expect(reply).resolves.toBe('PONG')
    } finally {
      lazy.disconnect()
    }
  })
})

describe('createRedisCaller through a slot migration (private cluster)', () => {
  let cluster: RedisCluster
  beforeAll(async () => {
    cluster = await startCluster()
  }, 120_000)
  afterAll(() => cluster?.stop())

  it('follows MOVED to a node that never saw the script: the call still answers, with EVAL there', async () => {
    const client = cluster.client()
    await waitForReady(client, 20_000)
    const caller = createRedisCaller(client, { timeoutMs: 10_000 })
    const key = 'migrating-counter'
    expect(await caller.script(incrBy, [key], [1])).toBe(1)

    const slot = slotOf(key)
    const admins = cluster.nodes.map((node) => node.client())
    const ids = await Promise.all(admins.map((admin) => admin.call('CLUSTER', 'MYID') as Promise<string>))
    const slots = (await admins[0]!.call('CLUSTER', 'SLOTS')) as Array<
      [number, number, [string, number, string]]
    >
    const ownerId = slots.find(([start, end]) => start <= slot && slot <= end)?.[2][2]
    const from = ids.indexOf(ownerId as string)
    const to = (from + 1) % ids.length
    const source = admins[from]!
    const target = admins[to]!
    const targetNode = cluster.nodes[to]!
    await target.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', ids[from]!)
    await source.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', ids[to]!)
    await source.call('MIGRATE', targetNode.host, targetNode.port, '', 0, 5000, 'KEYS', key)
    for (const admin of [target, source, ...admins.filter((a) => a !== target && a !== source)]) {
      await admin.call('CLUSTER', 'SETSLOT', slot, 'NODE', ids[to]!)
    }
    expect(await target.script('EXISTS', incrBy.sha)).toEqual([0])

    // The client still maps the slot to the old owner: MOVED, then NOSCRIPT on the new one, then EVAL.
    expect(await caller.script(incrBy, [key], [1])).toBe(2)
    expect(await target.script('EXISTS', incrBy.sha)).toEqual([1])
    expect(await caller.call('GET', key)).toBe('2')
  })
})
