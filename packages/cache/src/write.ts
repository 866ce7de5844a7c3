import { InvalidArgumentError } from '@x/redis-core'
import { buildBody, encodePayload } from './envelope.js'
import { invalidated, refused } from './events.js'
import { publish } from './invalidation.js'
import { checkKey, checkTags } from './keys.js'
import { keepInL1, storedOf } from './l1-fill.js'
import { checkWriteOptions } from './options.js'
import { learnClock, runMany, serverNow } from './redis-calls.js'
import { deleteScript } from './scripts/delete.lua.js'
import { writeScript } from './scripts/write.lua.js'
import type { CacheState, Scope } from './state.js'
import { pairUp, tagVersions } from './tags.js'
import type { CacheTraceContext } from './tracing.js'
import type { SetManyEntry, WriteOptions } from './types.js'

// Writes go through Lua that gives the key a new generation, so no fetch that started earlier can
// write back over them; each one is published so other instances drop their L1 copy.

/** Shortens `ttl` by up to `jitter × ttl`, so keys written together do not expire together. */
export function jittered(s: CacheState, ttl: number): number {
  if (s.jitter === 0) return ttl
  return Math.max(1, ttl - Math.floor(Math.random() * s.jitter * ttl))
}

export async function setMany<T>(scope: Scope, entries: ReadonlyArray<SetManyEntry<T>>): Promise<void> {
  const s = scope.state
  if (!Array.isArray(entries)) throw new InvalidArgumentError('entries must be an array')
  const prepared = entries.map((entry) => {
    const key = checkKey(entry?.key)
    checkWriteOptions(entry)
    const grace = entry.graceMs ?? s.graceMs
    return {
      key,
      full: scope.valuePrefix + key,
      payload: encodePayload(entry.value, s.codec),
      tags: checkTags(entry.tags),
      ttl: jittered(s, entry.ttlMs ?? s.ttlMs),
      grace,
    }
  })
  if (prepared.length === 0) return
  const allTags = [...new Set(prepared.flatMap((entry) => entry.tags ?? []))]
  let versions = new Map<string, string>()
  if (allTags.length > 0) {
    const longest = Math.max(...prepared.map((entry) => entry.ttl + entry.grace))
    const list = await tagVersions(s, allTags, longest)
    versions = new Map(allTags.map((tag, index) => [tag, list[index]!]))
  }
  // This write is the newest this instance has seen: anything seen after it keeps it out of L1.
  const seq = ++s.invalidationSeq
  const replies = await runMany(
    s,
    writeScript,
    prepared.map((entry) => ({
      keys: [entry.full],
      args: [
        'set',
        '',
        entry.ttl,
        entry.grace,
        buildBody(
          entry.payload,
          entry.tags?.flatMap((tag) => [tag, versions.get(tag)!]),
        ),
        s.tombstoneTtlMs,
      ],
    })),
    'setMany',
  )
  let failure: unknown
  prepared.forEach((entry, index) => {
    const reply = replies[index]
    if (reply instanceof Error || reply === undefined) {
      failure ??= reply ?? new Error('no reply')
      s.l1?.delete(entry.full)
      return
    }
    learnClock(s, reply[1])
    keepInL1(s, entry.full, storedOf(entry.payload), reply[1] + entry.ttl - serverNow(s), entry.tags, seq)
  })
  // Published even after a partial failure: the failed keys may or may not have been written.
  await publish(s, { keys: prepared.map((entry) => entry.full) })
  if (failure !== undefined) throw failure
}

export async function deleteKey(
  scope: Scope,
  key: string,
  trace: CacheTraceContext | undefined,
): Promise<boolean> {
  const s = scope.state
  const full = scope.valuePrefix + checkKey(key)
  s.invalidationSeq++
  s.l1?.delete(full)
  const [existed, now] = await s.caller.script(deleteScript, [full], [s.tombstoneTtlMs])
  learnClock(s, now)
  invalidated(s, { keys: [key] })
  await publish(s, { keys: [full] })
  if (trace) trace.outcome = existed === 1 ? 'deleted' : 'absent'
  return existed === 1
}

export async function update<T>(
  scope: Scope,
  key: string,
  writer: () => T | Promise<T>,
  options: WriteOptions | undefined,
  trace: CacheTraceContext | undefined,
): Promise<T> {
  const s = scope.state
  const full = scope.valuePrefix + checkKey(key)
  if (typeof writer !== 'function') throw new InvalidArgumentError('writer must be a function')
  if (options !== undefined) checkWriteOptions(options)
  const tags = checkTags(options?.tags)
  const ttl = jittered(s, options?.ttlMs ?? s.ttlMs)
  const grace = options?.graceMs ?? s.graceMs
  // Invalidate first: readers miss (and fetch the new truth) while the writer runs, and the new
  // generation is what the commit below must still find.
  s.invalidationSeq++
  s.l1?.delete(full)
  // Tags are stamped before the writer runs (in parallel with the invalidation), so a tag
  // invalidation during the writer leaves the stored result a miss, as for getOrSet.
  const [[, deletedAt, generation], versions] = await Promise.all([
    s.caller.script(deleteScript, [full], [s.tombstoneTtlMs]),
    tags ? tagVersions(s, tags, ttl + grace) : undefined,
  ])
  learnClock(s, deletedAt)
  await publish(s, { keys: [full] })
  const value = await writer()
  if (value === undefined) return value
  const payload = encodePayload(value, s.codec)
  const pairs = tags && versions ? pairUp(tags, versions) : undefined
  const seq = ++s.invalidationSeq
  const [stored, now] = await s.caller.script(
    writeScript,
    [full],
    ['commit', generation, ttl, grace, buildBody(payload, pairs), s.tombstoneTtlMs],
  )
  learnClock(s, now)
  if (trace) trace.outcome = stored === 1 ? 'written' : 'refused'
  if (stored === 1) keepInL1(s, full, storedOf(payload), now + ttl - serverNow(s), tags, seq)
  else refused(s, key)
  await publish(s, { keys: [full] })
  return value
}
