import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { targets } from '@x/testkit/vitest'
import { describe, expect, it } from 'vitest'

const child = fileURLToPath(new URL('./distributed-child.ts', import.meta.url))

function run(argument: string, onReady: () => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, argument], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let errors = ''
    proc.stdout.on('data', (data: Buffer) => {
      const before = out
      out += data.toString()
      if (!before.includes('ready\n') && out.includes('ready\n')) onReady()
    })
    proc.stderr.on('data', (data: Buffer) => {
      errors += data.toString()
    })
    proc.on('error', reject)
    proc.on('exit', (code) => {
      if (code === 0) resolve(out.split('\n').filter(Boolean).at(-1) ?? '')
      else reject(new Error(`child exited with ${code}: ${errors}`))
    })
  })
}

// Spawning four TypeScript processes is the slowest thing in this package's suite, so this runs on the
// cluster only; the same behaviour is covered on both targets with four connections in one process
// (src/distributed.test.ts).
describe.each(targets().filter((target) => target.name === 'cluster'))('$name', (target) => {
  it('4 separate processes hitting a cold key run the fetcher once', { timeout: 90_000 }, async () => {
    const prefix = `${target.prefix}:procs`
    const argument = JSON.stringify({ connection: target.connection, prefix })
    let ready = 0
    let release!: () => void
    const allReady = new Promise<void>((resolve) => {
      release = resolve
    })
    const children = Array.from({ length: 4 }, () =>
      run(argument, () => {
        if (++ready === 4) release()
      }),
    )
    await Promise.race([allReady, Promise.all(children)])
    const inspect = target.client()
    await inspect.set(`${prefix}:go`, '1', 'PX', 60_000)
    const outputs = await Promise.all(children)
    expect(Number(await inspect.get(`${prefix}:fetches`))).toBe(1)
    const values = outputs.map((line) => JSON.parse(line) as { pid: number })
    expect(new Set(values.map((value) => value.pid)).size).toBe(1)
  })
})
