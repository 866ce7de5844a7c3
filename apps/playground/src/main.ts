import { serve } from '@hono/node-server'
import { createApp } from './app.js'
import { loadConfig } from './config.js'
import { migrate } from './db/migrate.js'
import { describeDatabase, openDatabase } from './db/open.js'
import { connectRedis } from './redis.js'
import { createServices } from './services.js'

const config = loadConfig()
const redisHandle = await connectRedis(config.redisUrl, config.instanceId)
if (redisHandle.throwaway) {
  console.log(
    `REDIS_URL is not set: started a throwaway redis-server at ${redisHandle.url} (stopped on exit)`,
  )
}
const database = describeDatabase(config)
const db = await openDatabase(config).catch(async (error: unknown) => {
  await redisHandle.close()
  throw error
})
await migrate(db).catch(async (error: unknown) => {
  await Promise.allSettled([redisHandle.close(), db.close()])
  throw error
})
const services = await createServices({ config, db, database, redis: redisHandle.redis }).catch(
  async (error: unknown) => {
    await Promise.allSettled([redisHandle.close(), db.close()])
    throw error
  },
)
const app = createApp(services)

const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => {
  const base = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${info.port}`
  console.log(
    [
      `playground ${config.instanceId} listening on ${base}`,
      `  redis:    ${redisHandle.url}${redisHandle.throwaway ? ' (throwaway)' : ''}`,
      `  database: ${database}`,
      '',
      'try:',
      `  curl ${base}/health`,
      `  curl ${base}/users/1`,
      `  curl -c jar -H 'content-type: application/json' -d '{"email":"ada@example.com","password":"playground"}' ${base}/login`,
      `  curl -b jar ${base}/me`,
      `  curl -N ${base}/events    # and in another terminal:`,
      `  curl -H 'content-type: application/json' -d '{"body":"hello"}' ${base}/messages`,
      `  open ${base}/ in a browser`,
    ].join('\n'),
  )
})

let stopping = false
async function shutdown(signal: NodeJS.Signals) {
  if (stopping) return
  stopping = true
  console.log(`${signal}: shutting down`)
  // Ends the SSE streams first: server.close() waits for every open response.
  await services.close()
  const closed = new Promise<void>((resolve) => server.close(() => resolve()))
  const force = setTimeout(() => {
    if ('closeAllConnections' in server) server.closeAllConnections()
  }, 3000)
  force.unref()
  await closed
  clearTimeout(force)
  await Promise.allSettled([redisHandle.close(), db.close()])
  process.exit(0)
}

process.once('SIGINT', shutdown)
process.once('SIGTERM', shutdown)
