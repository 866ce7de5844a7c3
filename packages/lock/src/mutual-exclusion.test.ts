import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { type RedisServer, startServers, stopAll } from '@x/testkit'
import { targets, useRedis } from '@x/testkit/vitest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const workerFile = fileURLToPath(new URL('./__fixtures__/mutex-worker.ts', import.meta.url))
const PROCESSES = 4
const WORKERS = 4
const DURATION_MS = 2500

interface WorkerReport {
  entries: number
  overlaps: number
  rejected: number
  errors: string[]
}

function runWorker(config: unknown): Promise<WorkerReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', workerFile], {
      env: { ...process.env, MUTEX_WORKER: JSON.stringify(config) },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
    })
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    child.once('error', reject)
    child.once('exit', (code) => {
      const line = stdout.trim().split('\n').pop() ?? ''
      try {
        resolve(JSON.parse(line) as WorkerReport)
      } catch {
        reject(new Error(`worker exited with ${code}: ${stderr || stdout}`))
      }
    })
  })
}

async function prove(connection: unknown, prefix: string, resource: string) {
  const reports = await Promise.all(
    Array.from({ length: PROCESSES }, () =>
      runWorker({ connection, prefix, resource, workers: WORKERS, durationMs: DURATION_MS }),
    ),
  )
  const total = reports.reduce(
    (sum, report) => ({
      entries: sum.entries + report.entries,
      overlaps: sum.overlaps + report.overlaps,
      rejected: sum.rejected + report.rejected,
      errors: [...sum.errors, ...report.errors],
    }),
    { entries: 0, overlaps: 0, rejected: 0, errors: [] as string[] },
  )
  return { reports, total }
}

describe.each(targets())('mutual exclusion across processes on $name', (target) => {
  const inspector = useRedis(target)
  it(`${PROCESSES} processes × ${WORKERS} workers on one resource: 0 overlaps, 0 rejected fences`, async () => {
    const { reports, total } = await prove(target.connection, target.prefix, 'contended')
    expect(total.errors).toEqual([])
    expect(total.overlaps).toBe(0)
    expect(total.rejected).toBe(0)
    // Every process got in, many times: this was sustained contention, not one burst.
    for (const report of reports) expect(report.entries).toBeGreaterThan(0)
    expect(total.entries).toBeGreaterThan(PROCESSES * WORKERS)
    expect(await inspector.get(`${target.prefix}:proof:{contended}:guard`)).toBe('0')
    expect(Number(await inspector.get(`${target.prefix}:proof:{contended}:highest`))).toBe(
      Number(await inspector.get(`${target.prefix}:{contended}:fence`)),
    )
  }, 60_000)
})

describe('mutual exclusion across processes with Redlock', () => {
  let servers: RedisServer[]
  beforeAll(async () => {
    servers = await startServers(3)
  }, 60_000)
  afterAll(() => stopAll(servers))

  it(`${PROCESSES} processes × ${WORKERS} workers over 3 servers: 0 overlaps, 0 rejected fences`, async () => {
    const { reports, total } = await prove(
      { urls: servers.map((server) => server.url) },
      'proof',
      'contended',
    )
    expect(total.errors).toEqual([])
    expect(total.overlaps).toBe(0)
    expect(total.rejected).toBe(0)
    for (const report of reports) expect(report.entries).toBeGreaterThan(0)
    expect(await servers[0]!.client().get('proof:proof:{contended}:guard')).toBe('0')
  }, 60_000)
})
