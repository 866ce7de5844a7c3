import { connectionState } from './connection-state.js'
import type { RedisClient } from './create-redis.js'
import { RedisUnavailableError } from './errors.js'

/**
 * Resolves when the client is ready, rejects with `RedisUnavailableError` after `timeoutMs`.
 * Useful for connections made with `duplicate()` and at startup.
 */
export function waitForReady(client: RedisClient, timeoutMs = 5000): Promise<void> {
  if (client.status === 'ready') return Promise.resolve()
  if (client.status === 'end') return Promise.reject(unavailable(client, 'is closed'))
  // Concurrent callers share one wait, so a burst of them adds two listeners, not two each.
  const key = `${timeoutMs}`
  let waits = pending.get(client)
  if (!waits) {
    waits = new Map()
    pending.set(client, waits)
  }
  const existing = waits.get(key)
  if (existing) return existing
  const wait = waitOnce(client, timeoutMs).finally(() => waits.delete(key))
  waits.set(key, wait)
  return wait
}

const pending = new WeakMap<RedisClient, Map<string, Promise<void>>>()

function waitOnce(client: RedisClient, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
      clearTimeout(timer)
      client.off('ready', onReady)
      client.off('end', onEnd)
      if (error) reject(error)
      else resolve()
    }
    const onReady = () => done()
    const onEnd = () => done(unavailable(client, 'closed before it was ready'))
    const timer = setTimeout(
      () => done(unavailable(client, `was not ready within ${timeoutMs} ms (status: ${client.status})`)),
      timeoutMs,
    )
    timer.unref?.()
    client.on('ready', onReady)
    client.on('end', onEnd)
    if (client.status === 'wait') void client.connect().catch(() => {})
  })
}

/** Names the address and, for clients made by `createRedis`, the connection error that kept it away. */
function unavailable(client: RedisClient, what: string): RedisUnavailableError {
  const state = connectionState(client)
  const rootCause = state.lastError?.code
  return new RedisUnavailableError(`Redis at ${state.address} ${what}${rootCause ? `: ${rootCause}` : ''}`, {
    address: state.address,
    neverConnected: !state.everReady,
    ...(rootCause ? { rootCause } : {}),
  })
}
