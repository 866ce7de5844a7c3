// Informal publish → handler throughput check against raw ioredis, on a private redis-server.
// Run: node --import tsx packages/pubsub/bench/throughput.ts   (the real comparison lives in apps/bench)
import { createRedis } from '@x/redis-core'
import { startRedis } from '@x/testkit'
import { Redis } from 'ioredis'
import { createPubSub } from '../src/index.js'

const MESSAGES = Number(process.env.MESSAGES ?? 50_000)
const WINDOW = 1000
const ROUNDS = Number(process.env.ROUNDS ?? 3)
const payload = { id: 'order-1', amount: 42, items: ['a', 'b', 'c'], at: 1_700_000_000_000 }

const cpu = { raw: [] as number[], ours: [] as number[], oursPlain: [] as number[] }
let lastCpuPerMessage = 0

async function drive(publish: () => Promise<unknown>, received: () => number): Promise<number> {
  const started = process.hrtime.bigint()
  const cpuStart = process.cpuUsage()
  for (let sent = 0; sent < MESSAGES; sent += WINDOW) {
    const batch: Array<Promise<unknown>> = []
    for (let index = 0; index < WINDOW; index++) batch.push(publish())
    await Promise.all(batch)
  }
  while (received() < MESSAGES) await new Promise((resolve) => setImmediate(resolve))
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  const used = process.cpuUsage(cpuStart)
  // CPU time of this process per message: steadier than wall time on a loaded machine.
  lastCpuPerMessage = (used.user + used.system) / MESSAGES
  return MESSAGES / seconds
}

async function raw(url: string): Promise<number> {
  const publisher = new Redis(url)
  const subscriber = new Redis(url)
  let count = 0
  subscriber.on('message', (_channel, message) => {
    JSON.parse(message)
    count++
  })
  await subscriber.subscribe('bench')
  const rate = await drive(
    () => publisher.publish('bench', JSON.stringify(payload)),
    () => count,
  )
  publisher.disconnect()
  subscriber.disconnect()
  return rate
}

async function ours(url: string, plainClient = false): Promise<number> {
  // plainClient: the same ioredis defaults as the raw run (no per-command timeout timer).
  const redis = plainClient ? new Redis(url) : createRedis({ url })
  const pubsub = createPubSub({ redis })
  let count = 0
  await pubsub.subscribe('bench', () => {
    count++
  })
  const rate = await drive(
    () => pubsub.publish('bench', payload),
    () => count,
  )
  await pubsub.close()
  redis.disconnect()
  return rate
}

const median = (values: number[]) => values.slice().sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const server = await startRedis()
try {
  const rates = { raw: [] as number[], ours: [] as number[], oursPlain: [] as number[] }
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate the order so warm-up and background load hit both sides alike.
    const order =
      round % 2 === 0 ? (['raw', 'ours', 'oursPlain'] as const) : (['oursPlain', 'ours', 'raw'] as const)
    for (const which of order) {
      const rate = which === 'raw' ? await raw(server.url) : await ours(server.url, which === 'oursPlain')
      rates[which].push(rate)
      cpu[which].push(lastCpuPerMessage)
    }
  }
  const rawRate = median(rates.raw)
  console.log(`raw ioredis:                ${Math.round(rawRate)} msg/s (median of ${ROUNDS})`)
  console.log(
    `@x/pubsub (createRedis):    ${Math.round(median(rates.ours))} msg/s, ratio ${(median(rates.ours) / rawRate).toFixed(2)}`,
  )
  console.log(
    `@x/pubsub (plain ioredis):  ${Math.round(median(rates.oursPlain))} msg/s, ratio ${(median(rates.oursPlain) / rawRate).toFixed(2)}`,
  )
  console.log(
    `CPU µs/message (median): raw ${median(cpu.raw).toFixed(1)}, @x/pubsub ${median(cpu.ours).toFixed(1)}, @x/pubsub on plain ioredis ${median(cpu.oursPlain).toFixed(1)}`,
  )
} finally {
  await server.stop()
}
