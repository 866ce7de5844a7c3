import { randomBytes } from 'node:crypto'
import { Cluster, Redis } from 'ioredis'
import { afterAll, inject } from 'vitest'
import './provided.js'

export interface Target {
  /** 'server' or 'cluster', for test titles. */
  name: 'server' | 'cluster'
  /** Connection options accepted by `createRedis` from @x/redis-core. */
  connection: { url: string } | { clusterNodes: Array<{ host: string; port: number }> }
  /** A key prefix unique to this file and target, so files can share servers and run in parallel. */
  prefix: string
  /** A plain ioredis client (no @x defaults) for setup and inspection; closed after the file. */
  client(): Redis | Cluster
}

const opened = new Set<Redis | Cluster>()
let hooked = false

/**
 * The shared standalone server and cluster from the global setup, for
 * `describe.each(targets())('$name', (target) => …)`.
 */
export function targets(): Target[] {
  const shared = inject('xRedis')
  if (!shared) throw new Error('xRedis was not provided: add @x/testkit global-setup to vitest globalSetup')
  if (!hooked) {
    hooked = true
    afterAll(() => {
      for (const client of opened) client.disconnect()
      opened.clear()
    })
  }
  const id = randomBytes(4).toString('hex')
  const track = <T extends Redis | Cluster>(client: T): T => {
    client.on('error', () => {})
    opened.add(client)
    return client
  }
  return [
    {
      name: 'server',
      connection: { url: shared.url },
      prefix: `t${id}s`,
      client: () => track(new Redis(shared.url)),
    },
    {
      name: 'cluster',
      connection: { clusterNodes: shared.clusterNodes },
      prefix: `t${id}c`,
      client: () => track(new Cluster(shared.clusterNodes)),
    },
  ]
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Polls `check` until it returns true or `timeoutMs` passes; for conditions, not timings. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  stepMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await sleep(stepMs)
  }
}
