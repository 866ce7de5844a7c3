import type { ServerType } from '@hono/node-server'
import { serve } from '@hono/node-server'
import { createApp } from './app.js'
import { loadConfig, type PlaygroundConfig } from './config.js'
import { migrate } from './db/migrate.js'
import { describeDatabase, openDatabase } from './db/open.js'
import { connectRedis, type RedisHandle } from './redis.js'
import { createServices, type Services } from './services.js'
import { assertPortsFree, describeStartupFailure, listenFailed } from './startup-error.js'
import { createTelemetry } from './telemetry.js'

// Start-up failures are expected on a new machine: say what to do, not where in the code. Once
// the servers listen, errors are the app's own and keep Node's usual report.
function onStartupFailure(error: unknown): void {
  console.error(describeStartupFailure(error))
  process.exit(1)
}
process.on('uncaughtException', onStartupFailure)

const config = loadConfig()
const instanceIds =
  config.instances === 1 ? [config.instanceId] : ['A', 'B', 'C', 'D'].slice(0, config.instances)

interface Instance {
  services: Services
  redis: RedisHandle
  server: ServerType
  url: string
}

await assertPortsFree(
  config.host,
  instanceIds.map((_, index) => (config.port === 0 ? 0 : config.port + index)),
)
const first = await connectRedis(config.redisUrl, instanceIds[0]!)
if (first.throwaway) {
  console.log(`REDIS_URL is not set: started a throwaway redis-server at ${first.url} (stopped on exit)`)
}
const database = describeDatabase(config)
const db = await openDatabase(config).catch(async (error: unknown) => {
  await first.close()
  throw error
})
// Before the first operation: the packages' tracing channels are process-wide, so one
// instrumentation counts every instance in this process.
const telemetry = createTelemetry()
const instances: Instance[] = []
const closeAll = async () => {
  await Promise.allSettled(instances.map((instance) => instance.services.close()))
  await telemetry.close()
  // The first handle owns the throwaway redis-server: closed last.
  await Promise.allSettled(instances.slice(1).map((instance) => instance.redis.close()))
  await Promise.allSettled([first.close(), db.close()])
}
await migrate(db).catch(async (error: unknown) => {
  await closeAll()
  throw error
})

// Several instances in one process (`--instances 2`, what `pnpm playground` runs) share the one
// embedded database, but nothing else: each has its own Redis connections, L1 cache, subscriber,
// lock and HTTP port, exactly like separate processes behind a load balancer.
const peerUrls: string[] = [...config.peerUrls]
for (const [index, instanceId] of instanceIds.entries()) {
  const redis =
    index === 0 ? first : await connectRedis(config.redisUrl ?? first.url, instanceId).catch(failStart)
  const port = config.port === 0 ? 0 : config.port + index
  const own: PlaygroundConfig = { ...config, instanceId, port, peerUrls }
  const services = await createServices({ config: own, db, database, redis: redis.redis, telemetry }).catch(
    failStart,
  )
  const server = await listen(createApp(services).fetch, config.host, port).catch(failStart)
  const address = server.address()
  const boundPort = typeof address === 'object' && address ? address.port : port
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${boundPort}`
  peerUrls.push(url)
  instances.push({ services, redis, server, url })
}
process.off('uncaughtException', onStartupFailure)

async function failStart(error: unknown): Promise<never> {
  await closeAll()
  throw error
}

function listen(fetch: (request: Request) => Response | Promise<Response>, host: string, port: number) {
  return new Promise<ServerType>((resolve, reject) => {
    const server = serve({ fetch, port, hostname: host }, () => resolve(server))
    server.once('error', (error: NodeJS.ErrnoException) => reject(listenFailed(error, host, port)))
  })
}

const base = instances[0]!.url
console.log(
  [
    ...instances.map(({ services, url }) => `playground ${services.instanceId} listening on ${url}`),
    `  redis:    ${first.url}${first.throwaway ? ' (throwaway)' : ''}`,
    `  database: ${database}`,
    '',
    `open ${base}/ in a browser${instances.length > 1 ? ` (${base}/side-by-side: every instance on one page)` : ''}`,
    'or try:',
    `  curl ${base}/health`,
    `  curl -c jar -H 'content-type: application/json' -d '{"email":"ada@example.com","password":"playground"}' ${base}/login`,
    `  curl -b jar ${base}/me`,
    `  curl -b jar ${base}/users/1`,
    `  curl -N ${base}/events    # and in another terminal:`,
    `  curl -H 'content-type: application/json' -d '{"body":"hello"}' ${base}/messages`,
  ].join('\n'),
)

let stopping = false
async function shutdown(signal: NodeJS.Signals) {
  if (stopping) return
  stopping = true
  console.log(`${signal}: shutting down`)
  // Ends the SSE streams first: server.close() waits for every open response.
  await Promise.allSettled(instances.map((instance) => instance.services.close()))
  await Promise.all(
    instances.map(async ({ server }) => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      const force = setTimeout(() => {
        if ('closeAllConnections' in server) server.closeAllConnections()
      }, 3000)
      force.unref()
      await closed
      clearTimeout(force)
    }),
  )
  await closeAll()
  process.exit(0)
}

process.once('SIGINT', shutdown)
process.once('SIGTERM', shutdown)
