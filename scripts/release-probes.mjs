// One real call per published package, as a user's first script would make it: the body runs with the
// package's exports as `x` (ESM import and CJS require alike), REDIS_URL pointing at a throwaway server.
// Each probe closes what it opened, so the process exits by itself.
const withClient = (body) => `
const { default: Redis } = await import('ioredis')
const redis = new Redis(process.env.REDIS_URL)
try {
${body}
} finally {
  await redis.quit()
}
`

export const probes = {
  '@x/otel': `
const { default: diagnostics } = await import('node:diagnostics_channel')
const instrumentation = x.instrument()
const channel = diagnostics.tracingChannel('x:cache:getOrSet')
if (!channel.start.hasSubscribers) throw new Error('instrument() did not subscribe')
instrumentation.close()
if (channel.start.hasSubscribers) throw new Error('close() left a subscriber')
`,
  '@x/redis-core': `
const redis = x.createRedis({ url: process.env.REDIS_URL })
try {
  const pong = await x.ping(redis)
  if (typeof pong.latencyMs !== 'number') throw new Error('ping answered ' + JSON.stringify(pong))
} finally {
  await x.closeRedis(redis)
}
`,
  '@x/cache': withClient(`
const cache = x.createCache({ redis, prefix: 'probe' })
let calls = 0
const load = async () => { calls++; return { id: 1 } }
const [a, b] = await Promise.all([cache.getOrSet('user:1', load), cache.getOrSet('user:1', load)])
if (a.id !== 1 || b.id !== 1 || calls !== 1) throw new Error('getOrSet: ' + JSON.stringify({ a, b, calls }))
await cache.close()
`),
}
