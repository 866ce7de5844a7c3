import { isCluster } from './cluster.js'
import type { RedisClient } from './create-redis.js'

export interface CloseRedisOptions {
  /**
   * How long to wait for QUIT's reply before dropping the connection.
   * @default 2000
   */
  timeoutMs?: number
}

/**
 * Closes gracefully: QUIT lets in-flight replies arrive; if the server does not answer within
 * `timeoutMs` (paused, partitioned), the socket is dropped. Never rejects, never hangs.
 */
export async function closeRedis(client: RedisClient, options: CloseRedisOptions = {}): Promise<void> {
  const { timeoutMs = 2000 } = options
  if (client.status === 'end') return
  const ended = new Promise<boolean>((resolve) => client.once('end', () => resolve(true)))
  if (client.status === 'ready') {
    client.quit().catch(() => {})
    if (await within(ended, timeoutMs)) return
  }
  forceDisconnect(client)
  // The 'end' event follows the socket's close on the next ticks; wait briefly so status reads 'end'.
  await within(ended, 200)
}

function within(promise: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms)
    timer.unref?.()
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** disconnect() ends the socket politely, which a hung server never acknowledges: destroy it. */
function forceDisconnect(client: RedisClient): void {
  const connections = isCluster(client) ? [...client.nodes('all')] : [client]
  client.disconnect()
  for (const connection of connections) {
    ;(connection as unknown as { stream?: { destroy(): void } }).stream?.destroy()
    connection.disconnect()
  }
}

export interface CloseOnSignalsOptions extends CloseRedisOptions {
  /** @default ['SIGTERM', 'SIGINT'] */
  signals?: NodeJS.Signals[]
  /**
   * Exit after closing, with 128 + the signal's number, as the default handler would.
   * @default true
   */
  exit?: boolean
}

/**
 * Opt-in: closes `clients` when the process gets one of `signals`. Returns a function that removes
 * the handlers. Nothing is installed at import time.
 */
export function closeOnSignals(
  clients: readonly RedisClient[],
  options: CloseOnSignalsOptions = {},
): () => void {
  const { signals = ['SIGTERM', 'SIGINT'], exit = true } = options
  const handler = (signal: NodeJS.Signals) => {
    remove()
    void Promise.all(clients.map((client) => closeRedis(client, options))).then(() => {
      if (exit) process.exit(128 + (signalNumber[signal] ?? 15))
    })
  }
  const remove = () => {
    for (const signal of signals) process.off(signal, handler)
  }
  for (const signal of signals) process.on(signal, handler)
  return remove
}

const signalNumber: Partial<Record<NodeJS.Signals, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGTERM: 15,
}
