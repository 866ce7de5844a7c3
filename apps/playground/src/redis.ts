import { closeRedis, createRedis, type RedisClient } from '@x/redis-core'
import { redisStartFailed } from './startup-error.js'

export interface RedisHandle {
  redis: RedisClient
  /** Where Redis is, without a password. */
  url: string
  /** True when the app started its own throwaway redis-server (REDIS_URL was not set). */
  throwaway: boolean
  close(): Promise<void>
}

/**
 * Connects to REDIS_URL, or, when it is not set, starts a throwaway redis-server through the test
 * kit (a free loopback port, no persistence, killed when this process ends) so that `pnpm
 * playground` runs on a machine with nothing configured.
 */
export async function connectRedis(redisUrl: string | undefined, instanceId: string): Promise<RedisHandle> {
  let url = redisUrl
  let stopServer: (() => Promise<void>) | undefined
  if (!url) {
    // Loaded only here: a deployment with REDIS_URL never touches the test kit.
    const { startRedis } = await import('@x/testkit')
    const server = await startRedis().catch((error: unknown) => {
      throw redisStartFailed(error)
    })
    url = server.url
    stopServer = () => server.stop()
  }
  const redis = createRedis({
    url,
    connectionName: `playground:${instanceId}`,
    onError: reportConnectionError,
  })
  return {
    redis,
    url: redactUrl(url),
    throwaway: stopServer !== undefined,
    async close() {
      await closeRedis(redis)
      await stopServer?.()
    },
  }
}

let lastReported = 0

/** Connection errors repeat on every reconnect attempt; one line every few seconds is enough. */
function reportConnectionError(error: Error): void {
  const now = Date.now()
  if (now - lastReported < 5000) return
  lastReported = now
  console.error(`[redis] connection error: ${error.message}`)
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString().replace(/\/$/, '')
  } catch {
    return url
  }
}
