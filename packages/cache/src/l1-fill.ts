import { decodePayload, type Stored } from './envelope.js'
import type { CacheState } from './state.js'

/**
 * Deep-freezes what the codec decoded (plain objects and arrays; typed arrays cannot be frozen,
 * and a Map, Set or Date stays mutable through its methods).
 */
function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value) || ArrayBuffer.isView(value)) {
    return
  }
  Object.freeze(value)
  for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key])
}

/**
 * Puts a fresh value into L1, on every path that fills it (reads, fetches, writes). Two rules:
 * - L1 never holds a value older than the newest write or invalidation this instance has seen:
 *   `seq` is `invalidationSeq` when the operation's Redis call was sent; if it moved since, the value
 *   may predate what moved it, so the key is dropped instead.
 * - L1 holds its own copy, decoded from the stored form and deep-frozen: every caller that hits L1
 *   gets that shared object, so nobody can change what the others read, and the object a caller
 *   passed to set() or got from a fetcher or a Redis read stays theirs.
 * `freshForMs`: how much longer the value is fresh in Redis.
 */
export function keepInL1(
  s: CacheState,
  full: string,
  stored: Stored,
  freshForMs: number,
  tags: readonly string[] | undefined,
  seq: number,
): void {
  const l1 = s.l1
  if (l1 === undefined) return
  if (seq !== s.invalidationSeq) {
    l1.delete(full)
    return
  }
  let copy: unknown
  try {
    copy = decodePayload(stored, s.codec)
  } catch {
    // It was just decoded or encoded by the same codec; a codec that now refuses it is not cached.
    l1.delete(full)
    return
  }
  deepFreeze(copy)
  const now = performance.now()
  l1.set(full, copy, now + freshForMs, tags, now)
}

/** The stored form of a payload from encodePayload (kind marker first). */
export function storedOf(encoded: string): Stored {
  return { binary: encoded.charCodeAt(0) === 98 /* b */, payload: encoded.slice(1) }
}
