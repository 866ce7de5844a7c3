import { groupBySlot } from '@x/redis-core'
import type { Entry } from './envelope.js'
import { l1Hit, redisError } from './events.js'
import { checkKeys } from './keys.js'
import { classify, countRead, parse, type Read } from './read.js'
import type { Scope } from './state.js'
import { tagNames, versionsOf } from './tags.js'
import type { GetOptions } from './types.js'

/** A key whose read failed: getOrSetMany fetches it without caching the result. */
export type Bypass = { state: 'bypass' }

export async function getMany<T>(
  scope: Scope,
  keys: readonly string[],
  options: GetOptions | undefined,
): Promise<Array<T | undefined>> {
  const reads = await readMany<T>(scope, checkKeys(keys), 'getMany', undefined, undefined)
  return reads.map((read) =>
    read.state === 'fresh' || (read.state === 'stale' && options?.allowStale) ? read.value : undefined,
  )
}

/**
 * L1 first, then one MGET per slot group and one tag-version call for all tagged entries (none when
 * the caller's snapshot covers their tags).
 */
export async function readMany<T>(
  scope: Scope,
  keys: string[],
  operation: string,
  snapshotTags: readonly string[] | undefined,
  snapshot: Promise<string[]> | undefined,
): Promise<Array<Read<T> | Bypass>> {
  const s = scope.state
  const seq = s.invalidationSeq
  const fulls = keys.map((key) => scope.valuePrefix + key)
  const out: Array<Read<T> | Bypass | undefined> = new Array(keys.length)
  const raws: Array<string | null | undefined> = new Array(keys.length)
  const now = performance.now()
  const remote: number[] = []
  fulls.forEach((full, index) => {
    const local = s.l1?.get(full, now)
    if (local === undefined) {
      remote.push(index)
      return
    }
    l1Hit(s, keys[index]!)
    out[index] = {
      state: 'fresh',
      value: local.value as T,
      generation: '',
      freshUntil: 0,
      tags: undefined,
      stored: undefined,
    }
  })
  await Promise.all(
    groupBySlot(s.redis, remote, (index) => fulls[index]!).map(async (group) => {
      try {
        const values = await s.caller.call<Array<string | null>>(
          'MGET',
          ...group.map((index) => fulls[index]!),
        )
        group.forEach((index, position) => {
          raws[index] = values[position] ?? null
        })
      } catch (error) {
        redisError(s, operation, undefined, error)
        for (const index of group) out[index] = { state: 'bypass' }
      }
    }),
  )
  const entries = new Map<number, Entry | null>()
  const names = new Set<string>()
  for (const index of remote) {
    if (out[index] !== undefined) continue
    const entry = parse(s, keys[index]!, raws[index] ?? null)
    entries.set(index, entry)
    if (entry?.kind === 'value' && entry.tags) for (const name of tagNames(entry.tags)!) names.add(name)
  }
  let versions: Map<string, string> | undefined
  if (names.size > 0) {
    try {
      versions = await versionsOf(s, [...names], snapshotTags, snapshot)
    } catch (error) {
      // Tagged entries then read as misses (classify without versions).
      redisError(s, operation, undefined, error)
    }
  }
  for (const [index, entry] of entries) {
    const read = classify<T>(s, keys[index]!, entry, versions)
    countRead(s, keys[index]!, read, fulls[index]!, seq)
    out[index] = read
  }
  return out as Array<Read<T> | Bypass>
}
