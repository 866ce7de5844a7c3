/**
 * The app talks to its database through this one interface, so the embedded PGlite and a real
 * Postgres are interchangeable. The database is the source of truth; Redis only caches it.
 */
export interface Database {
  /** 'pglite' (embedded, one process) or 'postgres' (shared by every instance). */
  readonly kind: 'pglite' | 'postgres'
  /** One statement with `$1`-style parameters. */
  query<Row extends object = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<Row[]>
  /** Several statements without parameters, run in one round trip (migrations). */
  exec(sql: string): Promise<void>
  close(): Promise<void>
}
