import { execFileSync, spawn } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { redisBinaries } from './binaries.js'
import { startCluster } from './cluster.js'
import { registryRoot } from './reaper.js'
import { startRedis } from './redis-server.js'
import { startServers, stopAll } from './servers.js'
import { eventually } from './targets.js'

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('startRedis', () => {
  it('starts a private server on a free port that is never 6379, and stops it', async () => {
    const server = await startRedis()
    expect(server.port).not.toBe(6379)
    const client = server.client()
    expect(await client.ping()).toBe('PONG')
    expect(await client.config('GET', 'save')).toEqual(['save', ''])
    expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'no'])
    const pid = server.pid
    await server.stop()
    expect(alive(pid)).toBe(false)
    expect(existsSync(server.dir)).toBe(false)
  })

  it('restart keeps the port and serves again', async () => {
    const server = await startRedis()
    const firstPid = server.pid
    const client = server.client({ maxRetriesPerRequest: null })
    await client.set('k', 'v')
    await server.restart()
    expect(server.pid).not.toBe(firstPid)
    await eventually(async () => (await client.ping().catch(() => '')) === 'PONG', 10_000)
    // Persistence is off: a restart starts empty.
    expect(await client.get('k')).toBeNull()
    await server.stop()
  })

  it('pause stops answers until resume; kill crashes the process', async () => {
    const server = await startRedis()
    const client = server.client({ commandTimeout: 200, maxRetriesPerRequest: 0 })
    await client.ping()
    server.pause()
    await expect(client.ping()).rejects.toThrow(/timed out/)
    server.resume()
    await eventually(async () => (await client.ping().catch(() => '')) === 'PONG')
    server.pause(100)
    await eventually(async () => (await client.ping().catch(() => '')) === 'PONG')
    const pid = server.pid
    await server.kill()
    expect(alive(pid)).toBe(false)
    expect(server.running).toBe(false)
    await server.stop()
  })

  it('starts servers with a password', async () => {
    const server = await startRedis({ args: ['--requirepass', 'a secret'] })
    expect(server.url).toContain(encodeURIComponent('a secret'))
    expect(await server.client().ping()).toBe('PONG')
    await server.stop()
  })

  it('starts servers with the password option and refuses clients without it', async () => {
    const server = await startRedis({ password: 'other secret' })
    expect(server.url).toContain(encodeURIComponent('other secret'))
    expect(await server.client().ping()).toBe('PONG')
    const anonymous = server.client({ password: undefined, maxRetriesPerRequest: 0 })
    await expect(anonymous.ping()).rejects.toThrow(/NOAUTH/)
    await server.stop()
  })
})

describe('startServers', () => {
  it('starts N independent servers', async () => {
    const servers = await startServers(3)
    expect(new Set(servers.map((server) => server.port)).size).toBe(3)
    await Promise.all(servers.map(async (server, i) => server.client().set('id', String(i))))
    expect(await servers[2]!.client().get('id')).toBe('2')
    await stopAll(servers)
  })
})

describe('startCluster', () => {
  it('forms a 3-master cluster with every slot covered', async () => {
    const cluster = await startCluster({ masters: 3 })
    const client = cluster.client()
    const info = String(await client.cluster('INFO'))
    expect(info).toContain('cluster_state:ok')
    expect(info).toContain('cluster_slots_assigned:16384')
    expect(info).toContain('cluster_known_nodes:3')
    for (let i = 0; i < 50; i++) await client.set(`k${i}`, String(i))
    expect(await client.get('k49')).toBe('49')
    expect(client.nodes('master')).toHaveLength(3)
    const pids = cluster.nodes.map((node) => node.pid)
    await cluster.stop()
    for (const pid of pids) expect(alive(pid)).toBe(false)
  })
})

describe('cleanup', () => {
  it('leaves no redis-server behind when the process that started it is SIGKILLed', async () => {
    const script = `
      import { startRedis, startCluster } from ${JSON.stringify(join(import.meta.dirname, 'index.ts'))}
      const server = await startRedis()
      const cluster = await startCluster()
      console.log(JSON.stringify([server.pid, ...cluster.nodes.map((n) => n.pid)]))
      setInterval(() => {}, 1000)
    `
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    const pids = await new Promise<number[]>((resolve, reject) => {
      let out = ''
      child.stdout.on('data', (data) => {
        out += data
        const line = out.split('\n').find((l) => l.startsWith('['))
        if (line) resolve(JSON.parse(line))
      })
      child.once('exit', (code) => reject(new Error(`child exited early with ${code}`)))
    })
    expect(pids).toHaveLength(4)
    for (const pid of pids) expect(alive(pid)).toBe(true)
    child.kill('SIGKILL')
    await eventually(() => pids.every((pid) => !alive(pid)), 10_000)
    await eventually(() => !readdirSync(registryRoot()).includes(String(child.pid)), 10_000)
  }, 60_000)

  it('says how to install Redis when redis-server is missing', () => {
    const script = `
      process.env.REDIS_SERVER_BIN = '/nonexistent/redis-server'
      const { redisBinaries } = await import(${JSON.stringify(join(import.meta.dirname, 'binaries.ts'))})
      try { redisBinaries() } catch (error) { console.log(error.message) }
    `
    const out = execFileSync(process.execPath, [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      script,
    ]).toString()
    expect(out).toContain('/nonexistent/redis-server was not found')
    expect(out).toContain('apt-get install -y redis-server')
    expect(redisBinaries().server).toBeTruthy()
  })
})
