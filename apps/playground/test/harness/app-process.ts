import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { freePort } from '@x/testkit'

const appDir = resolve(import.meta.dirname, '../..')
const entry = resolve(appDir, 'dist/main.js')

export interface AppProcess {
  name: string
  url: string
  pid: number
  /** Everything the process printed, for failure messages. */
  output(): string
  /** fetch() against this instance; the path starts with '/'. */
  fetch(path: string, init?: RequestInit): Promise<Response>
  /** SIGTERM, then waits for the exit (SIGKILL after 10 s). Resolves with the exit code. */
  stop(): Promise<number | null>
}

export interface StartAppOptions {
  name: string
  /** Unset: the app starts its own throwaway redis-server. */
  redisUrl?: string
  /** Unset: the app uses an in-memory PGlite. */
  databaseUrl?: string
  /** Extra environment (rate limits, key prefix, …). */
  env?: Record<string, string>
}

/**
 * Spawns the BUILT app (`node dist/main.js`, as `pnpm playground` runs it) on a free port and
 * waits until /health answers. The tests build nothing: `pnpm test` builds first (turbo).
 */
export async function startApp(options: StartAppOptions): Promise<AppProcess> {
  if (!existsSync(entry)) {
    throw new Error(`${entry} is missing: build the app first (pnpm -F @x/playground build)`)
  }
  const port = await freePort()
  const child: ChildProcess = spawn(process.execPath, [entry], {
    cwd: appDir,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      PORT: String(port),
      HOST: '127.0.0.1',
      // Empty means unset to the app's config, and hides a REDIS_URL from the caller's environment.
      REDIS_URL: options.redisUrl ?? '',
      DATABASE_URL: options.databaseUrl ?? '',
      INSTANCE_ID: options.name,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)))
  let exitCode: number | null | undefined
  void exited.then((code) => {
    exitCode = code
  })
  const url = `http://127.0.0.1:${port}`

  // Generous: PGlite compiles its WASM at start-up, which takes a while on a busy two-core machine.
  const deadline = Date.now() + 90_000
  for (;;) {
    if (exitCode !== undefined)
      throw new Error(`${options.name} exited with ${exitCode} during start-up:\n${output}`)
    const healthy = await fetch(`${url}/health`).then(
      (response) => response.ok,
      () => false,
    )
    if (healthy) break
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`${options.name} did not answer /health within 90 s:\n${output}`)
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 100))
  }

  return {
    name: options.name,
    url,
    pid: child.pid!,
    output: () => output,
    fetch: (path, init) => fetch(`${url}${path}`, init),
    async stop() {
      if (exitCode !== undefined) return exitCode
      child.kill('SIGTERM')
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      const code = await exited
      clearTimeout(killer)
      return code
    },
  }
}
