type Listener<T> = (payload: T) => void

export interface Emitter<Events extends Record<string, unknown>> {
  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void
  emit<K extends keyof Events>(event: K, payload: Events[K]): void
  /** True when someone listens, so hot paths can skip building payloads. */
  has<K extends keyof Events>(event: K): boolean
}

/**
 * A tiny typed event hook for metrics and error reports, with no OpenTelemetry dependency (an OTel
 * bridge is a few `on()` calls). A listener that throws never breaks the operation that emitted:
 * its error goes to `onListenerError` (default: console.error).
 */
export function createEmitter<Events extends Record<string, unknown>>(
  onListenerError: (error: unknown, event: keyof Events) => void = (error, event) =>
    console.error(`[@x] listener for "${String(event)}" threw`, error),
): Emitter<Events> {
  const listeners = new Map<keyof Events, Set<Listener<never>>>()
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
      if (!set) return
      for (const listener of set) {
        try {
          ;(listener as Listener<typeof payload>)(payload)
        } catch (error) {
          onListenerError(error, event)
        }
      }
    },
    has(event) {
      return (listeners.get(event)?.size ?? 0) > 0
    },
  }
}
