import type { Database } from './database.js'
import { openPglite } from './pglite.js'
import { openPostgres } from './postgres.js'

export interface OpenDatabaseOptions {
  /** A Postgres URL; when unset, PGlite is used. */
  databaseUrl?: string | undefined
  /** PGlite's data folder; in memory when unset. */
  pgliteDir?: string | undefined
}

export function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  return options.databaseUrl ? openPostgres(options.databaseUrl) : openPglite(options.pgliteDir)
}

/** The URL without its password, for logs. */
export function describeDatabase(options: OpenDatabaseOptions): string {
  if (!options.databaseUrl) return options.pgliteDir ? `PGlite in ${options.pgliteDir}` : 'PGlite in memory'
  try {
    const url = new URL(options.databaseUrl)
    if (url.password) url.password = '***'
    return `Postgres at ${url.toString()}`
  } catch {
    return 'Postgres (DATABASE_URL)'
  }
}
