import { callSafely } from './call-safely.js'
import { redact } from './redact.js'
import { toRedisError } from './redis-error.js'

type Listener<T> = (payload: T) => unknown

/** The payload of the `error` event every package has, for errors that cannot be thrown to a caller. */
export interface ErrorEvent {
  /** The operation that failed (`refresh`, `extend`, `deliver`, …). */
  operation: string
  error: unknown
  /** The key, resource or channel involved, when there is one (a name, never a value). */
  key?: string
}

export interface Emitter<Events extends Record<string, unknown>> {
  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void
  /**
   * Calls the listeners of `event`. With nobody listening to `error`, an `error` is printed (see
   * `createEmitter`); other events without listeners cost a map lookup.
   */
  emit<K extends keyof Events>(event: K, payload: Events[K]): void
  /** True when someone listens, so hot paths can skip building payloads. */
  has<K extends keyof Events>(event: K): boolean
}

export interface EmitterOptions {
  /**
   * The package name printed by the default reports.
   * @default '@x'
   */
  name?: string
  /**
   * Receives every throw (or rejection) of a listener.
   * @default one console.error line per throwing listener, the first time it throws
   */
  onListenerError?: (error: unknown, event: string) => void
  /**
   * Minimum time between two default `error` lines for the same operation and code.
   * @default 10_000
   */
  errorLogIntervalMs?: number
}

/**
 * Typed events with the common `error` event default: when `error` is emitted and nobody listens,
 * one line `[<name>] <operation> failed: <message>` goes to console.error (message redacted), at
 * most once per operation and code every `errorLogIntervalMs`. Listening to `error` silences it.
 * A listener that throws or rejects never breaks the operation that emitted.
 */
export function createEmitter<Events extends Record<string, unknown>>(
  options: EmitterOptions | ((error: unknown, event: keyof Events) => void) = {},
): Emitter<Events> {
  // A function here is the former `onListenerError` parameter.
  const settings: EmitterOptions =
    typeof options === 'function'
      ? { onListenerError: options as (error: unknown, event: string) => void }
      : options
  const name = settings.name ?? '@x'
  const intervalMs = settings.errorLogIntervalMs ?? 10_000
  const reported = new WeakSet<object>()
  const lastLogged = new Map<string, number>()
  const listeners = new Map<keyof Events, Set<Listener<never>>>()

  const onListenerError =
    settings.onListenerError ??
    ((error: unknown, event: string, listener?: object) => {
      // Once per listener: a listener that throws on every event would otherwise flood the log.
      if (listener) {
        if (reported.has(listener)) return
        reported.add(listener)
      }
      console.error(`[${name}] a listener for "${event}" threw (reported once):`, describeError(error))
    })

  const logUnheard = (payload: ErrorEvent) => {
    const mapped = toRedisError(payload?.error)
    const code = (mapped as { code?: unknown })?.code ?? (mapped as { name?: unknown })?.name ?? 'unknown'
    const operation = payload?.operation ?? 'operation'
    const slot = `${operation}\u0000${String(code)}`
    const now = performance.now()
    const last = lastLogged.get(slot)
    if (last !== undefined && now - last < intervalMs) return
    lastLogged.set(slot, now)
    console.error(`[${name}] ${operation} failed: ${describeError(mapped)}`)
  }

  return {
    on(event, listener) {
      let set = listeners.get(event)
      if (!set) {
        set = new Set()
        listeners.set(event, set)
      }
      set.add(listener as Listener<never>)
      return () => {
        set.delete(listener as Listener<never>)
      }
    },
    emit(event, payload) {
      const set = listeners.get(event)
      if (!set || set.size === 0) {
        if (event === 'error') logUnheard(payload as ErrorEvent)
        return
      }
      for (const listener of set) {
        callSafely(
          () => (listener as Listener<typeof payload>)(payload),
          (error) => onListenerError(error, String(event), listener),
        )
      }
    },
    has(event) {
      return (listeners.get(event)?.size ?? 0) > 0
    },
  }
}

function describeError(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error)
  return redact(text)
}
