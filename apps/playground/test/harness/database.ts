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

/**
 * A Postgres to run the e2e tests on, only when one is named explicitly. Env:
 * `PLAYGROUND_TEST_DATABASE_URL` (an admin URL: each test file creates a fresh database there and
 * drops it afterwards). Unset: the embedded database, whatever happens to listen on this machine.
 */
const adminUrl = process.env.PLAYGROUND_TEST_DATABASE_URL?.trim() || undefined

/**
 * One database shared by the two app instances of a test file: by default an in-memory PGlite
 * behind a small wire-protocol server, which the apps reach through the very same `pg` code path
 * they use for Postgres; a real Postgres when `PLAYGROUND_TEST_DATABASE_URL` names one.
 */
export async function provideDatabase(): Promise<TestDatabase> {
  if (adminUrl) {
    const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 })
    await admin.connect().catch((error: Error) => {
      throw new Error(`PLAYGROUND_TEST_DATABASE_URL is set but does not answer: ${error.message}`)
    })
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
