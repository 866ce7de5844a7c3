import type { Database } from './database.js'

export interface User {
  id: number
  email: string
  name: string
  version: number
  updatedAt: string
}

interface UserRow {
  id: number
  email: string
  name: string
  version: number
  updated_at: string | Date
}

const columns = 'id, email, name, version, updated_at'

function toUser(row: UserRow): User {
  return {
    id: Number(row.id),
    email: row.email,
    name: row.name,
    version: Number(row.version),
    updatedAt: new Date(row.updated_at).toISOString(),
  }
}

let profileQueries = 0

/** Profile queries this process sent to the database: what the cache saves, shown on the page. */
export function profileQueryCount(): number {
  return profileQueries
}

export async function findUser(db: Database, id: number): Promise<User | null> {
  profileQueries++
  const [row] = await db.query<UserRow>(`SELECT ${columns} FROM users WHERE id = $1`, [id])
  return row ? toUser(row) : null
}

export async function findUsers(db: Database, ids: readonly number[]): Promise<Map<number, User>> {
  profileQueries++
  const rows = await db.query<UserRow>(`SELECT ${columns} FROM users WHERE id = ANY($1::int[])`, [ids])
  return new Map(rows.map((row) => [Number(row.id), toUser(row)]))
}

export async function findCredentials(
  db: Database,
  email: string,
): Promise<{ id: number; passwordHash: string } | null> {
  const [row] = await db.query<{ id: number; password_hash: string }>(
    'SELECT id, password_hash FROM users WHERE email = $1',
    [email],
  )
  return row ? { id: Number(row.id), passwordHash: row.password_hash } : null
}

export interface UserPatch {
  name?: string | undefined
  email?: string | undefined
}

/** Applies the patch and bumps the version, in one statement; null when the user does not exist. */
export async function updateUser(db: Database, id: number, patch: UserPatch): Promise<User | null> {
  const [row] = await db.query<UserRow>(
    `UPDATE users SET name = coalesce($2, name), email = coalesce($3, email),
       version = version + 1, updated_at = now()
     WHERE id = $1 RETURNING ${columns}`,
    [id, patch.name ?? null, patch.email ?? null],
  )
  return row ? toUser(row) : null
}
