import { spawn } from 'node:child_process'
import { resolve } from 'node:path'
import { createRedis } from '@x/redis-core'
import { eventually, targets, useRedis } from '@x/testkit/vitest'
import { describe, expect, it } from 'vitest'
import { createStream } from './stream.js'
import type { StreamMessageInfo } from './stream-types.js'

const child = resolve(import.meta.dirname, '../test/crashing-consumer.ts')

function runCrashingConsumer(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((done, fail) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    proc.stdout.on('data', (data) => {
      output += String(data)
    })
    proc.stderr.on('data', (data) => {
      output += String(data)
    })
    const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000)
    proc.once('error', fail)
    proc.once('exit', (code) => {
      clearTimeout(timer)
      done({ code, output })
    })
  })
}

describe.each(targets())('a crashing stream consumer on $name', (target) => {
  const redis = useRedis(target, createRedis)

  it('a message whose consumer process died before the ack is delivered to another consumer', async () => {
    const name = 'crash'
    const stream = createStream({
      redis,
      name,
      prefix: target.prefix,
      claimIdleMs: 200,
      claimIntervalMs: 50,
      blockMs: 200,
    })
    await stream.publish({ order: 7 })
    const result = await runCrashingConsumer({
      X_CONNECTION: JSON.stringify(target.connection),
      X_STREAM: name,
      X_PREFIX: target.prefix,
    })
    expect(result.output).toContain('handling')
    expect(result.code).toBe(17)
    const seen: Array<[unknown, StreamMessageInfo]> = []
    const survivor = stream.consume((message, info) => void seen.push([message, info]))
    await eventually(() => seen.length === 1, 10_000)
    expect(seen[0]![0]).toEqual({ order: 7 })
    expect(seen[0]![1].deliveries).toBe(2)
    await eventually(() => survivor.stats.handled === 1)
    await stream.close()
  }, 60_000)
})
