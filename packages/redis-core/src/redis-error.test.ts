import { inspect } from 'node:util'
import { type RedisServer, startCluster, startRedis } from '@x/testkit'
import { eventually } from '@x/testkit/vitest'
import { Redis, ReplyError } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { callSafely } from './call-safely.js'
import { closeRedis } from './close.js'
import { resolveRedisConfig } from './config.js'
import { createRedis, type RedisClient } from './create-redis.js'
import { InvalidArgumentError, RedisUnavailableError } from './errors.js'
import { toRedisError } from './redis-error.js'
import { assertRedisClient } from './validate.js'

const SECRET = 'S3cr3t-Pa55'

/** Everything a user could see of an error: message, stack, every cause, String(), deep inspect. */
function everythingEmitted(error: unknown): string {
  const parts: string[] = [String(error), inspect(error, { depth: 10, showHidden: true })]
  let current: unknown = error
  for (let depth = 0; current instanceof Error && depth < 10; depth++) {
    parts.push(current.message, current.stack ?? '', JSON.stringify(current))
    current = current.cause
  }
  return parts.join('\n')
}

function captureConsole() {
  const lines: string[] = []
  const spies = (['error', 'warn', 'log', 'info'] as const).map((method) =>
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      lines.push(args.map((arg) => (typeof arg === 'string' ? arg : inspect(arg, { depth: 10 }))).join(' '))
    }),
  )
  return {
    lines,
    restore: () => {
      for (const spy of spies) spy.mockRestore()
    },
  }
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (error: unknown) => error,
  )
}

describe('no secret in errors, causes or logs', () => {
  let secured: RedisServer
  const clients: RedisClient[] = []

  beforeAll(async () => {
    secured = await startRedis({ args: ['--requirepass', SECRET] })
  })

  afterAll(async () => {
    await Promise.all(clients.map((client) => closeRedis(client, { timeoutMs: 200 })))
    await secured.stop()
  })

  it('a malformed REDIS_URL with a password: no URL, no cause that holds it', () => {
    const env = { REDIS_URL: `redis://:${SECRET}@bad host:6379` }
    let error: unknown
    try {
      resolveRedisConfig({}, env)
    } catch (caught) {
      error = caught
    }
    expect(InvalidArgumentError.isInstance(error)).toBe(true)
    expect((error as Error).cause).toBeUndefined()
    expect(everythingEmitted(error)).not.toContain(SECRET)
  })

  it('an error reporter that throws: the last-resort console line carries no AUTH argument', () => {
    const console = captureConsole()
    try {
      const refused = Object.assign(new Error('WRONGPASS invalid username-password pair'), {
        command: { name: 'hello', args: ['3', 'AUTH', 'default', SECRET] },
      })
      callSafely(
        () => {
          throw refused
        },
        () => {
          throw new Error(`reporter failed on redis://:${SECRET}@cache:6379`)
        },
      )
    } finally {
      console.restore()
    }
    expect(console.lines.join('\n')).toMatch(/reporter threw/)
    expect(console.lines.join('\n')).not.toContain(SECRET)
  })

  it('a URL passed where a client belongs: the rejection does not repeat its password', () => {
    let error: unknown
    try {
      assertRedisClient(`redis://:${SECRET}@127.0.0.1:6379`)
    } catch (caught) {
      error = caught
    }
    expect(InvalidArgumentError.isInstance(error)).toBe(true)
    expect((error as Error).message).toMatch(/redis:\/\/:\*\*\*@/)
    expect(everythingEmitted(error)).not.toContain(SECRET)
  })

  it('a wrong password: typed error naming WRONGPASS, nothing of the password anywhere', async () => {
    const console = captureConsole()
    try {
      const redis = createRedis({
        url: `redis://:${SECRET}x@127.0.0.1:${secured.port}`,
        connectTimeoutMs: 1000,
      })
      clients.push(redis)
      const raw = await rejection(redis.ping())
      const error = toRedisError(raw, redis)
      expect(RedisUnavailableError.isInstance(error)).toBe(true)
      if (!RedisUnavailableError.isInstance(error)) return
      expect(error.rootCause).toBe('WRONGPASS')
      expect(error.address).toBe(`127.0.0.1:${secured.port}`)
      expect(error.neverConnected).toBe(true)
      expect(everythingEmitted(error)).not.toContain(SECRET)
      // The raw error was scrubbed in place, so whoever else holds it sees no password either.
      expect(everythingEmitted(raw)).not.toContain(SECRET)
      await eventually(() => console.lines.some((line) => line.includes('WRONGPASS')))
    } finally {
      console.restore()
    }
    expect(console.lines.join('\n')).not.toContain(SECRET)
  })

  it('a wrong password on a plain ioredis client: toRedisError removes the AUTH arguments', async () => {
    const redis = new Redis({ port: secured.port, username: 'default', password: SECRET, lazyConnect: true })
    redis.on('error', () => {})
    clients.push(redis)
    // The right password for a user that does not exist: the HELLO … AUTH arguments are on the error.
    redis.options.username = 'nobody'
    const raw = await rejection(redis.ping())
    expect(inspect(raw, { depth: 10 })).toContain(SECRET)
    const error = toRedisError(raw, redis)
    expect(RedisUnavailableError.isInstance(error)).toBe(true)
    expect(everythingEmitted(error)).not.toContain(SECRET)
  })

  it('a wrong password on a Cluster: no password in the error or the log', async () => {
    const cluster = await startCluster({ masters: 3 })
    try {
      await Promise.all(
        cluster.nodes.map((node) =>
          node
            .client()
            .config('SET', 'requirepass', SECRET)
            .then(() => undefined),
        ),
      )
      const console = captureConsole()
      let error: unknown
      try {
        const redis = createRedis({
          clusterNodes: cluster.startupNodes,
          password: `${SECRET}x`,
          connectTimeoutMs: 1000,
          clusterOptions: { clusterRetryStrategy: () => null },
        })
        clients.push(redis)
        error = toRedisError(await rejection(redis.ping()), redis)
      } finally {
        console.restore()
      }
      expect(RedisUnavailableError.isInstance(error)).toBe(true)
      expect(everythingEmitted(error)).not.toContain(SECRET)
      expect(console.lines.join('\n')).not.toContain(SECRET)
    } finally {
      await cluster.stop()
    }
  })
})

describe('connection failures say what is wrong', () => {
  const clients: RedisClient[] = []
  afterAll(async () => {
    await Promise.all(clients.map((client) => closeRedis(client, { timeoutMs: 200 })))
  })

  it('a refused port: address, ECONNREFUSED, never connected; one console line, once', async () => {
    const console = captureConsole()
    let error: unknown
    try {
      const redis = createRedis({
        url: 'redis://127.0.0.1:1',
        connectTimeoutMs: 500,
        reconnect: { maxMs: 50 },
      })
      clients.push(redis)
      error = toRedisError(await rejection(redis.get('x')), redis)
      // More reconnect attempts fail meanwhile; still one line.
      await rejection(redis.get('x'))
      await rejection(redis.get('x'))
    } finally {
      console.restore()
    }
    expect(RedisUnavailableError.isInstance(error)).toBe(true)
    if (!RedisUnavailableError.isInstance(error)) return
    expect(error.address).toBe('127.0.0.1:1')
    expect(error.rootCause).toBe('ECONNREFUSED')
    expect(error.neverConnected).toBe(true)
    expect(error.message).toMatch(/127\.0\.0\.1:1.*never connected.*ECONNREFUSED/)
    expect(console.lines).toHaveLength(1)
    expect(console.lines[0]).toMatch(/127\.0\.0\.1:1.*ECONNREFUSED/)
  })

  it('a Cluster whose seed nodes refuse: the seed addresses and ECONNREFUSED, one console line', async () => {
    const console = captureConsole()
    let error: unknown
    try {
      const redis = createRedis({
        clusterNodes: [
          { host: '127.0.0.1', port: 1 },
          { host: '127.0.0.1', port: 2 },
        ],
        clusterOptions: { clusterRetryStrategy: () => null },
      })
      clients.push(redis)
      await rejection(redis.get('x'))
      // ioredis does not say why a seed node failed; core asks the network once, then knows.
      await eventually(() => console.lines.length > 0)
      error = toRedisError(await rejection(redis.get('x')), redis)
    } finally {
      console.restore()
    }
    expect(RedisUnavailableError.isInstance(error)).toBe(true)
    if (!RedisUnavailableError.isInstance(error)) return
    expect(error.address).toBe('127.0.0.1:1,127.0.0.1:2')
    expect(error.rootCause).toBe('ECONNREFUSED')
    expect(error.neverConnected).toBe(true)
    expect(console.lines).toHaveLength(1)
    expect(console.lines[0]).toMatch(/127\.0\.0\.1:1,127\.0\.0\.1:2 cannot connect: ECONNREFUSED/)
  })

  it('an unknown host: ENOTFOUND', async () => {
    const console = captureConsole()
    let error: unknown
    try {
      const redis = createRedis({ host: 'no-such-host.invalid', port: 6390, reconnect: { maxMs: 50 } })
      clients.push(redis)
      error = toRedisError(await rejection(redis.get('x')), redis)
    } finally {
      console.restore()
    }
    expect(RedisUnavailableError.isInstance(error) && error.rootCause).toMatch(/ENOTFOUND|EAI_AGAIN/)
    expect(RedisUnavailableError.isInstance(error) && error.address).toBe('no-such-host.invalid:6390')
  })

  it('stays quiet with logConnectionErrors: false, or when the app listens to error itself', async () => {
    const console = captureConsole()
    const seen: Error[] = []
    try {
      const quiet = createRedis({ url: 'redis://127.0.0.1:1', logConnectionErrors: false })
      const listened = createRedis({ url: 'redis://127.0.0.1:1' })
      listened.on('error', (error) => seen.push(error))
      clients.push(quiet, listened)
      await rejection(quiet.get('x'))
      await rejection(listened.get('x'))
    } finally {
      console.restore()
    }
    expect(seen.length).toBeGreaterThan(0)
    expect(console.lines).toEqual([])
  })
})

describe('a Cluster that keeps redirecting: the shard is unavailable for now', () => {
  // The message ioredis builds when it gives up: `"Too many Cluster redirections. Last error: " + error`.
  const gaveUp = (reply: string) =>
    new Error(`Too many Cluster redirections. Last error: ${new ReplyError(reply)}`)

  it('MOVED on every try (a slot whose owner changes under a failover): RedisUnavailableError, rootCause MOVED', async () => {
    const cluster = await startCluster({ masters: 3 })
    try {
      const key = 'redirected'
      const seed = cluster.startupNodes[0]!
      const probe = new Redis(seed.port, seed.host)
      const slot = Number(await probe.cluster('KEYSLOT', key))
      const slots = await probe.cluster('SLOTS')
      probe.disconnect()
      const [host, port] = slots.find(([from, to]) => slot >= from && slot <= to)![2]!
      const master = `${host}:${port}`
      const other = cluster.startupNodes.find((node) => `${node.host}:${node.port}` !== master)!
      // Every connection to the slot's owner lands on another master, which answers MOVED again and again.
      const redis = cluster.client({
        maxRedirections: 3,
        natMap: { [master]: { host: other.host, port: other.port } },
      })
      const raw = await rejection(redis.get(key))
      expect(String(raw)).toMatch(/^Error: Too many Cluster redirections\. Last error: ReplyError: MOVED /)
      const error = toRedisError(raw, redis)
      expect(RedisUnavailableError.isInstance(error)).toBe(true)
      if (!RedisUnavailableError.isInstance(error)) return
      expect(error.code).toBe('E_REDIS_UNAVAILABLE')
      expect(error.rootCause).toBe('MOVED')
      expect(error.cause).toBe(raw)
    } finally {
      await cluster.stop()
    }
  })

  it.each([
    ['ASK 866 127.0.0.1:7002', 'ASK'],
    ['TRYAGAIN Multiple keys request during rehashing of slot', 'TRYAGAIN'],
    ['CLUSTERDOWN The cluster is down', 'CLUSTERDOWN'],
    ['CLUSTERDOWN Hash slot not served', 'CLUSTERDOWN'],
    ['LOADING Redis is loading the dataset in memory', 'LOADING'],
    ['MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to no', 'MASTERDOWN'],
    ["READONLY You can't write against a read only replica.", 'READONLY'],
  ])('the last error %s: RedisUnavailableError, rootCause %s, the cause kept', (reply, rootCause) => {
    const raw = gaveUp(reply)
    const error = toRedisError(raw)
    expect(RedisUnavailableError.isInstance(error)).toBe(true)
    if (!RedisUnavailableError.isInstance(error)) return
    expect(error.rootCause).toBe(rootCause)
    expect(error.cause).toBe(raw)
    expect(error.message).toContain(reply)
  })

  it('the last error a closed connection: RedisUnavailableError', () => {
    const raw = new Error(`Too many Cluster redirections. Last error: ${new Error('Connection is closed.')}`)
    expect(RedisUnavailableError.isInstance(toRedisError(raw))).toBe(true)
  })

  it("the last error the command's own (WRONGTYPE): returned as it is", () => {
    const raw = gaveUp('WRONGTYPE Operation against a key holding the wrong kind of value')
    expect(toRedisError(raw)).toBe(raw)
  })
})
