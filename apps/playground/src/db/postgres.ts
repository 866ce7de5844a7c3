import pg from 'pg'
import type { Database } from './database.js'

/** A real Postgres through a small `pg` pool; every app instance pointed at it shares the data. */
export async function openPostgres(connectionString: string): Promise<Database> {
  const pool = new pg.Pool({
    connectionString,
    max: 5,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 10_000,
  })
  // An idle client that loses its connection emits on the pool; without a listener that is a crash.
  pool.on('error', (error) => console.error('[db] idle connection error:', error.message))
  // Fail at start-up, with the real reason, rather than on the first request.
  const client = await pool.connect()
  client.release()
  let closed = false
  return {
    kind: 'postgres',
    async query<Row extends object>(sql: string, params: readonly unknown[] = []) {
      const result = await pool.query(sql, [...params])
      return result.rows as Row[]
    },
    async exec(sql) {
      await pool.query(sql)
    },
    async close() {
      if (closed) return
      closed = true
      await pool.end()
    },
  }
}
