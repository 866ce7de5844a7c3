import { createServer } from 'node:net'

/**
 * Start-up failures a newcomer meets (no redis-server installed, the port taken, a database that
 * does not answer), said as what happened and what to do, without a stack trace.
 */
export class StartupError extends Error {
  override name = 'StartupError'
}

/** For `pnpm playground` without REDIS_URL: the throwaway redis-server could not start. */
export function redisStartFailed(error: unknown): StartupError {
  // The test kit's own message goes on to talk about tests: its first sentence is what happened.
  const reason = (error instanceof Error ? error.message : String(error)).split(/\.\s|\n/)[0]
  return new StartupError(
    [
      `REDIS_URL is not set, so the playground tried to start a throwaway redis-server, and could not: ${reason}`,
      'Either install Redis 7 (Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis),',
      'or point the playground at a Redis you have: REDIS_URL=redis://127.0.0.1:6379 pnpm playground',
    ].join('\n'),
    { cause: error },
  )
}

/** The HTTP server could not listen. */
export function listenFailed(error: NodeJS.ErrnoException, host: string, port: number): StartupError {
  if (error.code === 'EADDRINUSE') {
    return new StartupError(
      [
        `port ${port} on ${host} is already in use (another playground, or another server).`,
        `Stop it, or pick another port: PORT=${port + 1} pnpm playground (PORT=0: any free port)`,
      ].join('\n'),
      { cause: error },
    )
  }
  if (error.code === 'EACCES') {
    return new StartupError(`not allowed to listen on ${host}:${port}: use a port above 1023 (PORT=3000)`, {
      cause: error,
    })
  }
  return new StartupError(`could not listen on ${host}:${port}: ${error.message}`, { cause: error })
}

/**
 * Fails before the slow part of start-up (Redis, the database) when a port is taken, so the
 * answer comes at once. Port 0 (any free port) is never taken.
 */
export async function assertPortsFree(host: string, ports: readonly number[]): Promise<void> {
  for (const port of ports) {
    if (port === 0) continue
    await new Promise<void>((resolve, reject) => {
      const probe = createServer()
      probe.once('error', (error: NodeJS.ErrnoException) => reject(listenFailed(error, host, port)))
      probe.listen(port, host, () => probe.close(() => resolve()))
    })
  }
}

/** One readable paragraph for the console: the message of a StartupError, or the first line of anything else. */
export function describeStartupFailure(error: unknown): string {
  if (error instanceof StartupError) return `playground could not start: ${error.message}`
  const message = error instanceof Error ? error.message : String(error)
  return `playground could not start: ${message.split('\n')[0]}`
}
