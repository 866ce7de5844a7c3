// One real call per published package, as a user's first script would make it: the body runs with the
// package's exports as `x` (ESM import and CJS require alike), REDIS_URL pointing at a throwaway server.
// The ESM and the CJS probe of a package run against the same server: each uses a prefix of its own.
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
  '@x/ratelimit': withClient(`
const limiter = x.createRateLimiter({ redis, prefix: 'probe-' + Math.random().toString(36).slice(2), limit: 1, windowMs: 60_000 })
const first = await limiter.limit('ip:1')
const second = await limiter.limit('ip:1')
if (!first.allowed || second.allowed) throw new Error('limit: ' + JSON.stringify({ first, second }))
`),
  '@x/lock': withClient(`
const lock = x.createLock({ redis, prefix: 'probe-' + Math.random().toString(36).slice(2) })
const lease = await lock.acquire('report')
if ((await lock.tryAcquire('report')) !== null) throw new Error('a held lock was acquired twice')
await lease.release()
const again = await lock.tryAcquire('report')
if (!again || again.fence <= lease.fence) throw new Error('fence did not increase')
await again.release()
await lock.close()
`),
  '@x/session': withClient(`
const sessions = x.createSessionStore({ redis, prefix: 'probe-' + Math.random().toString(36).slice(2) })
const { token } = await sessions.create('user-1', { role: 'admin' })
const session = await sessions.get(token)
if (session?.data.role !== 'admin') throw new Error('get: ' + JSON.stringify(session))
if (!(await sessions.destroy(token)) || (await sessions.get(token)) !== null) throw new Error('destroy did not end it')
`),
  '@x/pubsub': withClient(`
const pubsub = x.createPubSub({ redis })
const received = new Promise((resolve) => {
  pubsub.subscribe('probe', (message) => resolve(message)).then(() => pubsub.publish('probe', { n: 1 }))
})
const message = await received
if (message.n !== 1) throw new Error('received ' + JSON.stringify(message))
await pubsub.close()
`),
  '@x/cache': withClient(`
const cache = x.createCache({ redis, prefix: 'probe-' + Math.random().toString(36).slice(2) })
let calls = 0
const load = async () => { calls++; return { id: 1 } }
const [a, b] = await Promise.all([cache.getOrSet('user:1', load), cache.getOrSet('user:1', load)])
if (a.id !== 1 || b.id !== 1 || calls !== 1) throw new Error('getOrSet: ' + JSON.stringify({ a, b, calls }))
await cache.close()
`),
}
