import { spawn } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * Makes sure no redis-server outlives the process that started it, even when that process is
 * killed with SIGKILL (a crashed or interrupted test run):
 * - every server's pid is written to a folder owned by this process;
 * - a detached shell watches this process and kills the listed pids when it dies;
 * - on a normal exit they are killed synchronously;
 * - folders left by dead owners (say, a machine reboot killed the watcher too) are reaped on start.
 */
const ROOT = join(tmpdir(), 'x-testkit')
let ownDir: string | undefined
const live = new Set<number>()

export function registryRoot(): string {
  return ROOT
}

export function processDir(): string {
  if (ownDir) return ownDir
  reapOrphans()
  ownDir = join(ROOT, String(process.pid))
  mkdirSync(join(ownDir, 'pids'), { recursive: true })
  const watcher = spawn(
    'sh',
    [
      '-c',
      `while kill -0 ${process.pid} 2>/dev/null; do sleep 0.5; done
       for f in "${ownDir}"/pids/*; do [ -f "$f" ] && kill -9 "$(basename "$f")" 2>/dev/null; done
       rm -rf "${ownDir}"`,
    ],
    { detached: true, stdio: 'ignore' },
  )
  watcher.unref()
  process.once('exit', () => {
    for (const pid of live) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {}
    }
    rmSync(ownDir!, { recursive: true, force: true })
  })
  return ownDir
}

export function track(pid: number): void {
  live.add(pid)
  writeFileSync(join(processDir(), 'pids', String(pid)), '')
}

export function untrack(pid: number): void {
  live.delete(pid)
  rmSync(join(processDir(), 'pids', String(pid)), { force: true })
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

function reapOrphans(): void {
  let owners: string[]
  try {
    owners = readdirSync(ROOT)
  } catch {
    return
  }
  for (const owner of owners) {
    const ownerPid = Number(owner)
    if (!Number.isInteger(ownerPid) || alive(ownerPid)) continue
    const dir = join(ROOT, owner)
    try {
      for (const pid of readdirSync(join(dir, 'pids'))) {
        const cmdline = safeRead(`/proc/${pid}/cmdline`)
        if (cmdline.includes('redis-server')) {
          try {
            process.kill(Number(pid), 'SIGKILL')
          } catch {}
        }
      }
    } catch {}
    rmSync(dir, { recursive: true, force: true })
  }
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return ''
  }
}
