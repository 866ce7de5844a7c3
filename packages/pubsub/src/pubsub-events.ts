import { createEmitter, type Emitter } from '@x/redis-core'
import type { PubSubEvents } from './types.js'

/**
 * The instance's `on()` events, with the `error` default of every @x package: when nobody listens,
 * one `console.error` line per operation and error code every 10 s (a reconnect loop would
 * otherwise print one line per attempt).
 */
export function createPubSubEvents(name = '@x/pubsub'): {
  emitter: Emitter<PubSubEvents>
  reportError(payload: PubSubEvents['error']): void
} {
  const emitter = createEmitter<PubSubEvents>((error, event) =>
    console.error(`[${name}] a listener of "${String(event)}" threw:`, error),
  )
  const lastLogged = new Map<string, number>()
  return {
    emitter,
    reportError(payload) {
      if (emitter.has('error')) return emitter.emit('error', payload)
      const code = (payload.error as { code?: unknown } | undefined)?.code
      const line = `${payload.operation}:${String(code)}`
      const now = performance.now()
      if (now - (lastLogged.get(line) ?? -Infinity) < 10_000) return
      lastLogged.set(line, now)
      const message = payload.error instanceof Error ? payload.error.message : String(payload.error)
      console.error(
        `[${name}] ${payload.operation} failed${payload.key === undefined ? '' : ` on "${payload.key}"`}: ${message}`,
      )
    },
  }
}
