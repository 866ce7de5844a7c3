import { type RedisServer, startRedis } from '@x/testkit'
import { type AppProcess, startApp } from './app-process.js'
import { provideDatabase, type TestDatabase } from './database.js'

export interface Playground {
  redis: RedisServer
  db: TestDatabase
  a: AppProcess
  b: AppProcess
  stop(): Promise<void>
}

/**
 * Two instances of the built app, as separate processes, on one throwaway Redis (ours to restart)
 * and one database: what a deployment behind a load balancer looks like.
 */
export async function startPlayground(env: Record<string, string> = {}): Promise<Playground> {
  const redis = await startRedis()
  const db = await provideDatabase().catch(async (error: unknown) => {
    await redis.stop()
    throw error
  })
  const apps: AppProcess[] = []
  try {
    // One after the other: both run the migration, and the first one seeds.
    apps.push(await startApp({ name: 'A', redisUrl: redis.url, databaseUrl: db.url, env }))
    apps.push(await startApp({ name: 'B', redisUrl: redis.url, databaseUrl: db.url, env }))
  } catch (error) {
    await Promise.allSettled(apps.map((app) => app.stop()))
    await Promise.allSettled([db.close(), redis.stop()])
    throw error
  }
  const [a, b] = apps as [AppProcess, AppProcess]
  return {
    redis,
    db,
    a,
    b,
    async stop() {
      await Promise.allSettled([a.stop(), b.stop()])
      await Promise.allSettled([db.close(), redis.stop()])
    },
  }
}
