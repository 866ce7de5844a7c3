import { hashPassword } from '../password.js'
import type { Database } from './database.js'

/**
 * The whole schema. Each instance runs it at start-up; the transaction-scoped advisory lock makes
 * two instances starting at once on one Postgres take turns instead of racing on CREATE TABLE.
 */
const schema = `
BEGIN;
SELECT pg_advisory_xact_lock(7283512);
CREATE TABLE IF NOT EXISTS users (
  id integer PRIMARY KEY,
  email text NOT NULL UNIQUE,
  name text NOT NULL,
  password_hash text NOT NULL,
  version integer NOT NULL DEFAULT 1,
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- last_fence is the highest fencing token that has written this row: a write carrying a lower or
-- equal token comes from a lock holder that lost its lease, and the UPDATE's WHERE rejects it.
CREATE TABLE IF NOT EXISTS jobs (
  id text PRIMARY KEY,
  last_fence bigint NOT NULL DEFAULT 0,
  runs integer NOT NULL DEFAULT 0,
  last_instance text,
  last_run_at timestamptz
);
CREATE TABLE IF NOT EXISTS job_runs (
  id bigserial PRIMARY KEY,
  job_id text NOT NULL REFERENCES jobs (id),
  fence bigint NOT NULL,
  instance text NOT NULL,
  started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  finished_at timestamptz
);
CREATE TABLE IF NOT EXISTS messages (
  id bigserial PRIMARY KEY,
  author text NOT NULL,
  body text NOT NULL,
  instance text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO jobs (id) VALUES ('nightly-report'), ('reindex'), ('send-digest') ON CONFLICT (id) DO NOTHING;
COMMIT;
`

export const seedUsers = [
  { id: 1, email: 'ada@example.com', name: 'Ada Lovelace' },
  { id: 2, email: 'grace@example.com', name: 'Grace Hopper' },
  { id: 3, email: 'alan@example.com', name: 'Alan Turing' },
  { id: 4, email: 'edsger@example.com', name: 'Edsger Dijkstra' },
  { id: 5, email: 'barbara@example.com', name: 'Barbara Liskov' },
  { id: 6, email: 'ken@example.com', name: 'Ken Thompson' },
  { id: 7, email: 'margaret@example.com', name: 'Margaret Hamilton' },
  { id: 8, email: 'donald@example.com', name: 'Donald Knuth' },
] as const

/** Every seeded user signs in with this password (it is a playground). */
export const seedPassword = 'playground'

export async function migrate(db: Database): Promise<void> {
  await db.exec(schema)
  const [row] = await db.query<{ count: string | number }>('SELECT count(*) AS count FROM users')
  if (Number(row?.count ?? 0) > 0) return
  for (const user of seedUsers) {
    await db.query(
      'INSERT INTO users (id, email, name, password_hash) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING',
      [user.id, user.email, user.name, await hashPassword(seedPassword)],
    )
  }
}
