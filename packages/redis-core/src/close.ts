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
  if (client.status !== 'ready') {
    client.disconnect()
    return
  }
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs)
    timer.unref?.()
  })
  const quit = client.quit().then(
    () => 'quit' as const,
    () => 'error' as const,
  )
  const outcome = await Promise.race([quit, timedOut])
  clearTimeout(timer)
  if (outcome !== 'quit') client.disconnect()
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
