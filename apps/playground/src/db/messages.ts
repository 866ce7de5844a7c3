import type { Database } from './database.js'

export interface Message {
  id: number
  author: string
  body: string
  instance: string
  createdAt: string
}

interface MessageRow {
  id: string | number
  author: string
  body: string
  instance: string
  created_at: string | Date
}

function toMessage(row: MessageRow): Message {
  return {
    id: Number(row.id),
    author: row.author,
    body: row.body,
    instance: row.instance,
    createdAt: new Date(row.created_at).toISOString(),
  }
}

export async function insertMessage(
  db: Database,
  message: { author: string; body: string; instance: string },
): Promise<Message> {
  const [row] = await db.query<MessageRow>(
    'INSERT INTO messages (author, body, instance) VALUES ($1, $2, $3) RETURNING *',
    [message.author, message.body, message.instance],
  )
  return toMessage(row!)
}

export async function latestMessages(db: Database, limit: number): Promise<Message[]> {
  const rows = await db.query<MessageRow>('SELECT * FROM messages ORDER BY id DESC LIMIT $1', [limit])
  return rows.map(toMessage)
}
