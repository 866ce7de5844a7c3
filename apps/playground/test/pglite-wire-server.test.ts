import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type PgliteWireServer, startPgliteWireServer } from './harness/pglite-wire-server.js'

// The e2e fallback database must behave like a server for several pooled connections.
describe('the PGlite wire-protocol server (e2e fallback database)', () => {
  let server: PgliteWireServer
  let pool: pg.Pool

  beforeAll(async () => {
    server = await startPgliteWireServer()
    pool = new pg.Pool({ connectionString: server.url, max: 4 })
    await pool.query('CREATE TABLE counters (id int PRIMARY KEY, value int NOT NULL)')
    await pool.query('INSERT INTO counters VALUES (1, 0)')
  }, 120_000)

  afterAll(async () => {
    await pool?.end()
    await server?.close()
  })

  it('answers parameterised queries from several connections at once', async () => {
    await Promise.all(
      Array.from({ length: 40 }, () =>
        pool.query('UPDATE counters SET value = value + $1 WHERE id = 1', [1]),
      ),
    )
    const { rows } = await pool.query<{ value: number }>('SELECT value FROM counters WHERE id = $1', [1])
    expect(rows[0]!.value).toBe(40)
  })

  it('keeps a transaction to its connection: others wait, a rollback undoes only it', async () => {
    const client = await pool.connect()
    try {
      await client.query('BEGIN')
      await client.query('UPDATE counters SET value = -1 WHERE id = 1')
      const outside = pool.query<{ value: number }>('SELECT value FROM counters WHERE id = 1')
      await client.query('ROLLBACK')
      expect((await outside).rows[0]!.value).toBe(40)
    } finally {
      client.release()
    }
  })

  it('reports SQL errors to the client and keeps serving', async () => {
    await expect(pool.query('SELECT * FROM missing_table')).rejects.toThrow(/does not exist/)
    await expect(pool.query('SELECT $1::int AS n', ['x'])).rejects.toThrow()
    const { rows } = await pool.query<{ n: number }>('SELECT $1::int AS n', [7])
    expect(rows[0]!.n).toBe(7)
  })
})
