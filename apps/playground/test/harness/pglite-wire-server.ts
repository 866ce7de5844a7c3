import { createServer, type Server, type Socket } from 'node:net'
import { PGlite } from '@electric-sql/pglite'

/**
 * A minimal Postgres wire-protocol server over one in-memory PGlite, so that two app processes can
 * share one database through `pg` on machines without a Postgres (CI). @electric-sql/pglite-socket
 * does this upstream but is not installed here, and it admits one client at a time; the app pools
 * several connections per instance, so this one multiplexes them:
 *
 * - the start-up handshake (SSL refusal, trust "authentication", ReadyForQuery) is answered here;
 * - every later message is framed and forwarded to PGlite's raw protocol entry point, a group at a
 *   time (up to a Sync or a simple Query), under one mutex;
 * - a connection keeps the mutex while the server reports it inside a transaction (ReadyForQuery
 *   status 'T' or 'E'), so transactions from different connections never interleave; PGlite has
 *   one session, so this serialisation is what gives each connection its own transaction.
 *
 * Test-only: no authentication, no COPY, no cancel requests.
 */
export interface PgliteWireServer {
  url: string
  port: number
  close(): Promise<void>
}

const SSL_REQUEST = 80877103
const GSS_REQUEST = 80877104
const CANCEL_REQUEST = 80877102
const PROTOCOL_3 = 196608

export async function startPgliteWireServer(port = 0): Promise<PgliteWireServer> {
  const db = await PGlite.create()
  let tail: Promise<void> = Promise.resolve()
  const acquire = (): Promise<() => void> => {
    let release!: () => void
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    const acquired = tail.then(() => release)
    tail = tail.then(() => held)
    return acquired
  }
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    serveConnection(socket, db, acquire).finally(() => sockets.delete(socket))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no TCP address')
  return {
    port: address.port,
    url: `postgres://postgres@127.0.0.1:${address.port}/postgres`,
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await db.close()
    },
  }
}

async function serveConnection(socket: Socket, db: PGlite, acquire: () => Promise<() => void>) {
  let buffer = Buffer.alloc(0)
  let started = false
  let pending: Buffer[] = []
  let release: (() => void) | undefined
  let queue: Promise<void> = Promise.resolve()
  let closed = false

  const run = async (group: Buffer) => {
    release ??= await acquire()
    if (closed) return
    const reply = Buffer.from(await db.execProtocolRaw(new Uint8Array(group)))
    if (!closed) socket.write(reply)
    if (lastReadyStatus(reply) === 'I') {
      release()
      release = undefined
    }
  }

  socket.on('data', (chunk) => {
    buffer = Buffer.concat([buffer, chunk])
    for (;;) {
      if (!started) {
        if (buffer.length < 8) return
        const length = buffer.readInt32BE(0)
        if (buffer.length < length) return
        const code = buffer.readInt32BE(4)
        buffer = buffer.subarray(length)
        if (code === SSL_REQUEST || code === GSS_REQUEST) {
          socket.write('N')
          continue
        }
        if (code === CANCEL_REQUEST || code !== PROTOCOL_3) {
          socket.destroy()
          return
        }
        started = true
        socket.write(handshake())
        continue
      }
      if (buffer.length < 5) return
      const length = buffer.readInt32BE(1)
      if (buffer.length < length + 1) return
      const message = buffer.subarray(0, length + 1)
      buffer = buffer.subarray(length + 1)
      const type = String.fromCharCode(message[0]!)
      if (type === 'X') {
        socket.end()
        return
      }
      pending.push(message)
      if (type === 'S' || type === 'Q' || type === 'H') {
        const group = Buffer.concat(pending)
        pending = []
        queue = queue
          .then(() => run(group))
          .catch((error: unknown) => {
            console.error('[pglite-wire] query failed:', error)
            socket.destroy()
          })
      }
    }
  })

  await new Promise<void>((resolve) => {
    socket.once('close', () => resolve())
    socket.on('error', () => {})
  })
  closed = true
  await queue
  if (release) {
    // The client went away inside a transaction: roll it back before anyone else runs.
    await db.execProtocolRaw(new Uint8Array(simpleQuery('ROLLBACK'))).catch(() => {})
    release()
  }
}

function lastReadyStatus(reply: Buffer): string | undefined {
  let status: string | undefined
  let offset = 0
  while (offset + 5 <= reply.length) {
    const type = reply[offset]
    const length = reply.readInt32BE(offset + 1)
    if (type === 0x5a /* Z */ && offset + 5 < reply.length) status = String.fromCharCode(reply[offset + 5]!)
    offset += length + 1
  }
  return status
}

function message(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5)
  header.write(type, 0, 'latin1')
  header.writeInt32BE(body.length + 4, 1)
  return Buffer.concat([header, body])
}

function cString(text: string): Buffer {
  return Buffer.from(`${text}\0`, 'utf8')
}

function simpleQuery(sql: string): Buffer {
  return message('Q', cString(sql))
}

function handshake(): Buffer {
  const authOk = message('R', Buffer.from([0, 0, 0, 0]))
  const parameters = Object.entries({
    server_version: '17.0',
    server_encoding: 'UTF8',
    client_encoding: 'UTF8',
    DateStyle: 'ISO, MDY',
    integer_datetimes: 'on',
    standard_conforming_strings: 'on',
    TimeZone: 'UTC',
  }).map(([name, value]) => message('S', Buffer.concat([cString(name), cString(value)])))
  const keyData = Buffer.alloc(8)
  keyData.writeInt32BE(process.pid, 0)
  const ready = message('Z', Buffer.from('I', 'latin1'))
  return Buffer.concat([authOk, ...parameters, message('K', keyData), ready])
}
