import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Cluster, Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { countCommands } from './count-commands.js'
import { targets } from './targets.js'
import { uniqueName } from './unique-name.js'
import { useRedis } from './use-redis.js'

const run = promisify(execFile)

describe.each(targets())('fixtures on the shared $name', (target) => {
  const redis = useRedis(target)
  const other = useRedis(target)

  it('useRedis gives a plain client of the target kind', async () => {
    expect(redis instanceof Cluster).toBe(target.name === 'cluster')
    expect(redis instanceof Redis).toBe(target.name === 'server')
    expect(await redis.ping()).toBe('PONG')
  })

  it("countCommands counts exactly this client's commands, not another client's", async () => {
    const key = `${target.prefix}:${uniqueName('count')}`
    const { result, commands, byName, names } = await countCommands(redis, async () => {
      // Another client busy at the same time on the same server must not be counted.
      await Promise.all([redis.set(key, '1'), other.set(`${key}:other`, '1'), other.get(key)])
      await redis.incr(key)
      return redis.get(key)
    })
    expect(result).toBe('2')
    expect(names).toEqual(['set', 'incr', 'get'])
    expect(commands).toBe(3)
    expect(byName).toEqual({ set: 1, incr: 1, get: 1 })
    expect(names).toEqual(['set', 'incr', 'get'])
  })

  it('countCommands sees what reached the server: a NOSCRIPT reply and its EVAL, not the commands inside Lua', async () => {
    const key = `${target.prefix}:${uniqueName('lua')}`
    // A script no server has seen, so EVALSHA is answered NOSCRIPT.
    const lua = `redis.call('SET', KEYS[1], ARGV[1]) return redis.call('GET', KEYS[1]) -- ${uniqueName('fresh')}`
    const sha = createHash('sha1').update(lua).digest('hex')
    const { result, names } = await countCommands(redis, async () => {
      const missing = await redis.evalsha(sha, 1, key, 'v').catch((error: Error) => error.message)
      expect(String(missing)).toMatch(/NOSCRIPT/)
      return redis.eval(lua, 1, key, 'v')
    })
    expect(result).toBe('v')
    expect(names).toEqual(['evalsha', 'eval'])
  })

  it('countCommands starts on a server busy with other clients (MONITOR lines arrive with its OK)', async () => {
    const key = `${target.prefix}:${uniqueName('busy')}`
    let flooding = true
    const flood = (async () => {
      while (flooding) await Promise.all(Array.from({ length: 50 }, (_, i) => other.set(`${key}:${i}`, 'x')))
    })()
    try {
      // Each start races the flood: ioredis's own monitor() failed here on the first few.
      for (let round = 0; round < 15; round++) {
        const { commands, names } = await countCommands(redis, () => redis.incr(key))
        expect(names).toEqual(['incr'])
        expect(commands).toBe(1)
      }
    } finally {
      flooding = false
      await flood
    }
    expect(await redis.get(key)).toBe('15')
  })
})

describe('useRedis closes its client', () => {
  let client: Redis | Cluster | undefined
  afterAll(() => {
    // The inner describe's afterAll ran first and closed it.
    expect(client?.status).toBe('end')
  })

  describe('inner', () => {
    const [server] = targets()
    const redis = useRedis(server!)
    it('uses it', async () => {
      client = redis
      expect(await redis.ping()).toBe('PONG')
    })
  })
})

describe('countCommands on a pipeline', () => {
  const [server] = targets()
  const redis = useRedis(server!)
  it('counts each command of the pipeline', async () => {
    const key = `${server!.prefix}:${uniqueName('pipe')}`
    const { commands, byName } = await countCommands(redis, () =>
      redis.pipeline().set(key, '1').incr(key).get(key).exec(),
    )
    expect(commands).toBe(3)
    expect(byName).toEqual({ set: 1, incr: 1, get: 1 })
  })
})

describe('uniqueName', () => {
  it('never repeats within a run and keeps the label', () => {
    const names = new Set(Array.from({ length: 1000 }, () => uniqueName('k')))
    expect(names.size).toBe(1000)
    for (const name of names) expect(name.startsWith('k-')).toBe(true)
  })
})

describe('the unhandled-rejection trap', () => {
  it('fails a run whose test left a rejection unhandled, naming it', async () => {
    const config = join(import.meta.dirname, '__fixtures__/unhandled.config.ts')
    const outcome = await run('pnpm', ['exec', 'vitest', 'run', '--config', config], {
      cwd: join(import.meta.dirname, '..'),
      env: { ...process.env, CI: '1', NO_COLOR: '1' },
    }).then(
      ({ stdout }) => ({ code: 0, output: stdout }),
      (error: { code: number; stdout: string; stderr: string }) => ({
        code: error.code,
        output: `${error.stdout}\n${error.stderr}`,
      }),
    )
    expect(outcome.code).not.toBe(0)
    expect(outcome.output).toMatch(/unhandled rejection/)
    expect(outcome.output).toMatch(/nobody handled me/)
    expect(outcome.output).toMatch(/uncaught exception/)
    expect(outcome.output).toMatch(/thrown where nobody catches/)
    // Each failure is charged to the test it happened in; the clean test passes.
    expect(outcome.output).toMatch(/2 failed \| 1 passed/)
  }, 120_000)
})
