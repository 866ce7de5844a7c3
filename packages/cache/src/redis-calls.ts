import type { Script, ScriptCall } from '@x/redis-core'
import type { CacheState } from './state.js'

/** The hit-path GET through core's caller: deadline, mapped errors, writes of one tick coalesced. */
export function getRaw(s: CacheState, full: string): Promise<string | null> {
  return s.caller.call<string | null>('get', full)
}

/** `script.runMany` under the cache's timeout; a failure of the whole call becomes every call's error. */
export async function runMany<D>(
  s: CacheState,
  script: Script<D>,
  calls: ScriptCall[],
  what: string,
): Promise<Awaited<ReturnType<Script<D>['runMany']>>> {
  try {
    return await s.caller.run(() => script.runMany(s.redis, calls), what)
  } catch (error) {
    return calls.map(() => error as Error)
  }
}

/** Scripts return the server time (ms): core's server clock learns the offset from each reply. */
export function learnClock(s: CacheState, serverMs: unknown): void {
  if (typeof serverMs === 'number') s.clock.observe(serverMs * 1000)
}

/**
 * The Redis server's time in ms without a round trip, so freshness is judged on the clock that wrote
 * the entry; the local wall clock until a script reply has been seen (a cache that only reads).
 */
export function serverNow(s: CacheState): number {
  return s.clock.now() ?? Date.now()
}

export function isWrongType(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('WRONGTYPE')
}
