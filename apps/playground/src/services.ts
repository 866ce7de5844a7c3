import type { RedisClient } from '@x/redis-core'
import type { PlaygroundConfig } from './config.js'
import type { Database } from './db/database.js'

/** Everything the handlers use, built once per process by `createServices`. */
export interface Services {
  config: PlaygroundConfig
  instanceId: string
  db: Database
  /** Human-readable description of the database, for /health. */
  database: string
  redis: RedisClient
  /** Aborts when the process shuts down, so long-lived responses (SSE) end and the server can close. */
  shutdown: AbortSignal
  close(): Promise<void>
}

export interface CreateServicesOptions {
  config: PlaygroundConfig
  db: Database
  database: string
  redis: RedisClient
}

export async function createServices(options: CreateServicesOptions): Promise<Services> {
  const { config, db, database, redis } = options
  const shutdown = new AbortController()
  return {
    config,
    instanceId: config.instanceId,
    db,
    database,
    redis,
    shutdown: shutdown.signal,
    async close() {
      shutdown.abort()
    },
  }
}
