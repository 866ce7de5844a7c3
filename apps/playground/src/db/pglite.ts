import { PGlite } from '@electric-sql/pglite'
import type { Database } from './database.js'

/**
 * Embedded Postgres (WASM): no server to install. In memory unless `dataDir` is given. One
 * process owns it, so two app instances need a real Postgres (DATABASE_URL) to share data.
 */
export async function openPglite(dataDir?: string): Promise<Database> {
  const db = await PGlite.create(dataDir ? { dataDir } : {})
  return {
    kind: 'pglite',
    async query<Row extends object>(sql: string, params: readonly unknown[] = []) {
      const result = await db.query<Row>(sql, [...params])
      return result.rows
    },
    async exec(sql) {
      await db.exec(sql)
    },
    async close() {
      if (!db.closed) await db.close()
    },
  }
}
