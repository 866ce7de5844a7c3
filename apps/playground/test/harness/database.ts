import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { startPgliteWireServer } from './pglite-wire-server.js'

export interface TestDatabase {
  url: string
  /** 'postgres' (a fresh database on a local Postgres) or 'pglite-wire' (the fallback). */
  kind: 'postgres' | 'pglite-wire'
  /** A pool on the same database, for assertions the HTTP API does not expose. */
  pool: pg.Pool
  close(): Promise<void>
}

/** Where the e2e tests look for a Postgres. Env: `E2E_POSTGRES_URL`. */
const adminUrl = process.env.E2E_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/test'

/**
 * One database shared by the two app instances of a test file. A local Postgres is used when one
 * answers (a fresh database per file, dropped afterwards), so the apps run on the real thing;
 * otherwise (CI without Postgres) an in-memory PGlite behind a small wire-protocol server, which
 * the apps reach through the very same `pg` code path. Set E2E_DATABASE=pglite to force the fallback.
 */
export async function provideDatabase(): Promise<TestDatabase> {
  if (process.env.E2E_DATABASE !== 'pglite') {
    const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 2000 })
    const connected = await admin.connect().then(
      () => true,
      () => false,
    )
    if (connected) {
      const name = `playground_e2e_${randomBytes(5).toString('hex')}`
      try {
        await admin.query(`CREATE DATABASE ${name}`)
      } finally {
        await admin.end()
      }
      const url = new URL(adminUrl)
      url.pathname = `/${name}`
      const pool = new pg.Pool({ connectionString: url.toString(), max: 2 })
      pool.on('error', () => {})
      return {
        url: url.toString(),
        kind: 'postgres',
        pool,
        async close() {
          await pool.end()
          const cleanup = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 2000 })
          await cleanup.connect()
          try {
            await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
          } finally {
            await cleanup.end()
          }
        },
      }
    }
    await admin.end().catch(() => {})
  }
  const server = await startPgliteWireServer()
  const pool = new pg.Pool({ connectionString: server.url, max: 1 })
  pool.on('error', () => {})
  return {
    url: server.url,
    kind: 'pglite-wire',
    pool,
    async close() {
      await pool.end()
      await server.close()
    },
  }
}
