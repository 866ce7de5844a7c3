import { DecodeError } from '@x/redis-core'
import { decodePayload, type Entry, parseEntry, type Stored } from './envelope.js'
import { corrupt, hit, l1Hit, miss, redisError } from './events.js'
import { checkKey } from './keys.js'
import { keepInL1 } from './l1-fill.js'
import { getRaw, isWrongType, serverNow } from './redis-calls.js'
import type { CacheState, Scope } from './state.js'
import { tagNames, versionsOf } from './tags.js'
import type { CacheTraceContext } from './tracing.js'

/**
 * A classified entry. `generation` is what a fill must find to write ('0' when absent); `stored` is
 * the payload as read from Redis (undefined when the value came from L1).
 */
export type Read<T> =
  | {
      state: 'fresh' | 'stale'
      value: T
      generation: string
      freshUntil: number
      tags: string[] | undefined
      stored: Stored | undefined
    }
  | { state: 'miss'; generation: string }

export type TaggedEntry = Entry & { kind: 'value'; tags: string[] }

/** Tagged entries need their tag versions before they can be classified (one more call). */
export function isTagged(entry: Entry | null): entry is TaggedEntry {
  return entry !== null && entry.kind === 'value' && entry.tags !== undefined
}

/** Parses a stored string; corrupt or foreign data is reported and reads as absent. */
export function parse(s: CacheState, key: string, raw: string | null): Entry | null {
  if (raw === null) return null
  try {
    return parseEntry(raw)
  } catch (error) {
    corrupt(s, key, error)
    return null
  }
}

/** A key holding another Redis type is corrupt data: reported, and read as absent. */
export function wrongType(s: CacheState, key: string, error: unknown): null {
  corrupt(s, key, new DecodeError('stored value is not a string', { cause: error }))
  return null
}

/** Classifies one entry given the current versions of its tags. */
export function classify<T>(
  s: CacheState,
  key: string,
  entry: Entry | null,
  versions: ReadonlyMap<string, string> | undefined,
): Read<T> {
  if (entry === null) return { state: 'miss', generation: '0' }
  if (entry.kind === 'tombstone') return { state: 'miss', generation: entry.generation }
  const tags = entry.tags
  if (tags !== undefined) {
    if (versions === undefined) return { state: 'miss', generation: entry.generation }
    for (let index = 0; index < tags.length; index += 2) {
      if (versions.get(tags[index]!) !== tags[index + 1])
        return { state: 'miss', generation: entry.generation }
    }
  }
  let value: T
  try {
    value = decodePayload<T>(entry, s.codec)
  } catch (error) {
    corrupt(s, key, error)
    return { state: 'miss', generation: entry.generation }
  }
  const now = serverNow(s)
  if (entry.freshUntil > now) {
    return {
      state: 'fresh',
      value,
      generation: entry.generation,
      freshUntil: entry.freshUntil,
      tags,
      stored: entry,
    }
  }
  if (entry.hardUntil > now) {
    return {
      state: 'stale',
      value,
      generation: entry.generation,
      freshUntil: entry.freshUntil,
      tags,
      stored: entry,
    }
  }
  return { state: 'miss', generation: entry.generation }
}

/** Classifies a tagged entry, reusing the snapshot taken before the read when it covers its tags. */
export async function readTagged<T>(
  s: CacheState,
  key: string,
  entry: TaggedEntry,
  snapshotTags: readonly string[] | undefined,
  snapshot: Promise<string[]> | undefined,
): Promise<Read<T>> {
  let versions: Map<string, string>
  try {
    versions = await versionsOf(s, tagNames(entry.tags)!, snapshotTags, snapshot)
  } catch (error) {
    // Unverifiable tags: safer to miss than to serve something that may have been invalidated.
    redisError(s, 'tag versions', key, error)
    return { state: 'miss', generation: entry.generation }
  }
  return classify(s, key, entry, versions)
}

/** Counts a read and keeps a fresh value in L1, unless an invalidation happened since `seq`. */
export function countRead<T>(s: CacheState, key: string, read: Read<T>, full: string, seq: number): void {
  if (read.state === 'fresh') {
    hit(s, key)
    if (read.stored !== undefined) {
      keepInL1(s, full, read.stored, read.freshUntil - serverNow(s), tagNames(read.tags), seq)
    }
  } else miss(s, key)
}

/** get / has: L1, then one GET (plus a tag check for tagged entries). Redis failures read as misses. */
export async function readOne<T>(
  scope: Scope,
  key: string,
  operation: string,
  trace: CacheTraceContext | undefined,
): Promise<Read<T>> {
  const s = scope.state
  const full = scope.valuePrefix + checkKey(key)
  const local = s.l1?.get(full, performance.now())
  if (local !== undefined) {
    l1Hit(s, key)
    return {
      state: 'fresh',
      value: local.value as T,
      generation: '',
      freshUntil: 0,
      tags: undefined,
      stored: undefined,
    }
  }
  const seq = s.invalidationSeq
  let raw: string | null
  if (trace) trace.roundTrips = 1
  try {
    raw = await getRaw(s, full)
  } catch (error) {
    if (!isWrongType(error)) {
      redisError(s, operation, key, error)
      return { state: 'miss', generation: '0' }
    }
    raw = wrongType(s, key, error)
  }
  const entry = parse(s, key, raw)
  if (trace && isTagged(entry)) trace.roundTrips = 2
  const read = isTagged(entry)
    ? await readTagged<T>(s, key, entry, undefined, undefined)
    : classify<T>(s, key, entry, undefined)
  countRead(s, key, read, full, seq)
  return read
}
