import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { Redis, type RedisOptions } from 'ioredis'
import { redisBinaries } from './binaries.js'
import { freePort } from './free-port.js'
import { processDir, track, untrack } from './reaper.js'

export interface StartRedisOptions {
  /** Port to listen on. @default a free random port (never 6379) */
  port?: number
  /** Require this password (`--requirepass`); `url` and `client()` then carry it. */
  password?: string
  /** Extra redis-server arguments, e.g. ['--maxmemory', '10mb']. */
  args?: string[]
  /** Start as a cluster node (cluster-enabled yes). */
  clusterEnabled?: boolean
  /** How long to wait for the server to answer PING. @default 10000 */
  startTimeoutMs?: number
}

export interface RedisServer {
  readonly host: string
  readonly port: number
  readonly url: string
  /** The redis-server process id (changes on restart). */
  readonly pid: number
  /** Private folder of this server (logs, nodes.conf). */
  readonly dir: string
  /** A plain ioredis client to this server, closed by stop(). */
  client(options?: RedisOptions): Redis
  /** Stops the server (SIGTERM, then SIGKILL) and closes its clients. Idempotent. */
  stop(): Promise<void>
  /** Kills the server with SIGKILL, as a crash would. */
  kill(): Promise<void>
  /** Stops (if running) and starts again on the same port and folder. */
  restart(): Promise<void>
  /** SIGSTOP: the server keeps its connections but answers nothing. Resumes after `ms` if given. */
  pause(ms?: number): void
  /** SIGCONT. */
  resume(): void
  /** True while the process runs (paused counts as running). */
  readonly running: boolean
}

/** Starts a throwaway redis-server on a free loopback port with persistence off and a private folder. */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  if (options.port !== undefined) return startRedisOn(options.port, options)
  // A port found free can be taken before redis-server binds it (or its cluster bus port): by a test
  // process of another package, or as the local port of any outgoing connection. Draw another.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startRedisOn(await freePort(), options)
    } catch (error) {
      if (attempt === 5 || !(error instanceof ExitedDuringStartupError)) throw error
    }
  }
}

class ExitedDuringStartupError extends Error {}

async function startRedisOn(port: number, options: StartRedisOptions): Promise<RedisServer> {
  const { server: bin } = redisBinaries()
  const dir = mkdtempSync(join(processDir(), `redis-${port}-`))
  const host = '127.0.0.1'
  const args = [
    '--port',
    String(port),
    '--bind',
    host,
    '--save',
    '',
    '--appendonly',
    'no',
    '--protected-mode',
    'no',
    '--daemonize',
    'no',
    '--dir',
    dir,
    '--logfile',
    join(dir, 'redis.log'),
    ...(options.clusterEnabled
      ? [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(dir, 'nodes.conf'),
          '--cluster-node-timeout',
          '2000',
        ]
      : []),
    ...(options.password === undefined ? [] : ['--requirepass', options.password]),
    ...(options.args ?? []),
  ]
  const password = options.password ?? passwordOf(options.args)
  const clients = new Set<Redis>()
  let child: ChildProcess | undefined
  let exited: Promise<void> = Promise.resolve()
  let resumeTimer: NodeJS.Timeout | undefined

  const launch = async () => {
    const proc = spawn(bin, args, { stdio: 'ignore' })
    child = proc
    if (proc.pid === undefined) throw new Error(`could not start ${bin}`)
    track(proc.pid)
    exited = new Promise((resolve) => {
      proc.once('exit', () => {
        untrack(proc.pid!)
        if (child === proc) child = undefined
        resolve()
      })
    })
    await waitForPing(host, port, password, options.startTimeoutMs ?? 10000, () => child === proc)
  }

  const terminate = async (signal: NodeJS.Signals) => {
    clearTimeout(resumeTimer)
    const proc = child
    if (!proc) return
    try {
      // A stopped process acts on SIGKILL at once; SIGTERM needs it running, but SIGCONT first would
      // let a paused server answer what it had buffered, so only send it when terminating politely.
      if (signal !== 'SIGKILL') proc.kill('SIGCONT')
      proc.kill(signal)
    } catch {}
    const killer = setTimeout(() => {
      try {
        proc.kill('SIGKILL')
      } catch {}
    }, 3000)
    await exited
    clearTimeout(killer)
  }

  await launch()

  const handle: RedisServer = {
    host,
    port,
    url: `redis://${password ? `:${encodeURIComponent(password)}@` : ''}${host}:${port}`,
    get pid() {
      return child?.pid ?? -1
    },
    dir,
    get running() {
      return child !== undefined
    },
    client(clientOptions = {}) {
      const client = new Redis({ host, port, ...(password ? { password } : {}), ...clientOptions })
      client.on('error', () => {})
      clients.add(client)
      client.once('end', () => clients.delete(client))
      return client
    },
    async stop() {
      for (const client of clients) client.disconnect()
      clients.clear()
      await terminate('SIGTERM')
      rmSync(dir, { recursive: true, force: true })
    },
    async kill() {
      await terminate('SIGKILL')
    },
    async restart() {
      await terminate('SIGTERM')
      await launch()
    },
    pause(ms) {
      if (!child) throw new Error('server is not running')
      child.kill('SIGSTOP')
      clearTimeout(resumeTimer)
      if (ms !== undefined) {
        resumeTimer = setTimeout(() => handle.resume(), ms)
        resumeTimer.unref()
      }
    },
    resume() {
      clearTimeout(resumeTimer)
      child?.kill('SIGCONT')
    },
  }
  return handle
}

function passwordOf(args: string[] = []): string | undefined {
  const index = args.indexOf('--requirepass')
  return index === -1 ? undefined : args[index + 1]
}

/** Polls with a raw PING until the server answers; a raw socket avoids ioredis's retry machinery. */
async function waitForPing(
  host: string,
  port: number,
  password: string | undefined,
  timeoutMs: number,
  stillRunning: () => boolean,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (!stillRunning()) {
      throw new ExitedDuringStartupError(`redis-server on port ${port} exited during startup (port taken?)`)
    }
    if (await pingOnce(host, port, password)) return
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`)
}

function resp(args: string[]): string {
  return `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`
}

function pingOnce(host: string, port: number, password: string | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port })
    let buffer = ''
    const finish = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(500, () => finish(false))
    socket.once('error', () => finish(false))
    socket.on('data', (data) => {
      buffer += data.toString()
      if (buffer.includes('+PONG')) finish(true)
      else if (buffer.includes('-LOADING') || (buffer.includes('-') && !password)) finish(false)
    })
    socket.once('connect', () => {
      socket.write(password ? `${resp(['AUTH', password])}${resp(['PING'])}` : resp(['PING']))
    })
  })
}
