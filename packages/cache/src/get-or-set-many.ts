import { InvalidArgumentError } from '@x/redis-core'
import { buildBody, encodePayload } from './envelope.js'
import { redisError, refused, served } from './events.js'
import type { Stale } from './fetch-and-store.js'
import { checkKeys, checkTags } from './keys.js'
import { keepInL1, storedOf } from './l1-fill.js'
import { checkWriteOptions } from './options.js'
import { readMany } from './read-many.js'
import { learnClock, runMany, serverNow } from './redis-calls.js'
import { fillScript } from './scripts/fill.lua.js'
import type { Scope } from './state.js'
import { pairUp, tagVersions } from './tags.js'
import type { BatchFetcher, WriteOptions } from './types.js'
import { jittered } from './write.js'

/** Reads all keys, calls the batch fetcher once with the misses, fills them with one pipeline per slot. */
export async function getOrSetMany<T>(
  scope: Scope,
  keys: readonly string[],
  fetcher: BatchFetcher<T>,
  options: WriteOptions | undefined,
): Promise<Array<T | undefined>> {
  const s = scope.state
  const list = checkKeys(keys)
  if (typeof fetcher !== 'function') throw new InvalidArgumentError('fetcher must be a function')
  if (options !== undefined) checkWriteOptions(options)
  const tags = checkTags(options?.tags)
  const ttl = options?.ttlMs ?? s.ttlMs
  const grace = options?.graceMs ?? s.graceMs
  const seq = s.invalidationSeq
  let snapshot: Promise<string[]> | undefined
  if (tags) {
    snapshot = tagVersions(s, tags, ttl + grace)
    snapshot.catch(() => {})
  }
  const reads = await readMany<T>(scope, list, 'getOrSetMany', tags, snapshot)
  const results: Array<T | undefined> = reads.map((read) => (read.state === 'fresh' ? read.value : undefined))
  // One fetch per distinct key that is not fresh; `generation` is what the write compares against.
  const missing = new Map<string, { generation: string; stale: Stale<T> | undefined; indices: number[] }>()
  reads.forEach((read, index) => {
    if (read.state === 'fresh') return
    const key = list[index]!
    const known = missing.get(key)
    if (known) known.indices.push(index)
    else
      missing.set(key, {
        generation: read.state === 'bypass' ? '' : read.generation,
        stale: read.state === 'stale' ? { value: read.value } : undefined,
        indices: [index],
      })
  })
  if (missing.size === 0) return results
  const missingKeys = Array.from(missing, ([key]) => key)
  // As in getOrSet: fetch only after the tag versions are stamped.
  let stamp: string[] | undefined
  if (snapshot) {
    try {
      stamp = await snapshot
    } catch (error) {
      redisError(s, 'getOrSetMany', undefined, error)
    }
  }
  s.stats.fetches++
  let fetched: ReadonlyArray<T> | ReadonlyMap<string, T>
  try {
    fetched = await fetcher(missingKeys)
  } catch (error) {
    const allStale = [...missing.values()].every((entry) => entry.stale !== undefined)
    s.stats.fetchErrors++
    s.emitter.emit('fetchError', { key: missingKeys.join(','), error, staleServed: allStale })
    if (!allStale) throw error
    for (const [key, entry] of missing) {
      served(s, key, 'fetch-error')
      for (const index of entry.indices) results[index] = entry.stale?.value
    }
    return results
  }
  if (!(fetched instanceof Map) && (!Array.isArray(fetched) || fetched.length !== missingKeys.length)) {
    throw new InvalidArgumentError(
      `batch fetcher must return a Map or an array of ${missingKeys.length} values (one per key, in order)`,
    )
  }
  const resultFor = (key: string, position: number): T | undefined =>
    fetched instanceof Map ? fetched.get(key) : (fetched as ReadonlyArray<T>)[position]
  // Encode everything first: a value that cannot be stored fails the call before anything is written.
  const writes: Array<{ key: string; full: string; value: T; payload: string; generation: string }> = []
  missingKeys.forEach((key, position) => {
    const value = resultFor(key, position)
    const entry = missing.get(key)!
    for (const index of entry.indices) results[index] = value
    if (value === undefined) return
    writes.push({
      key,
      full: scope.valuePrefix + key,
      value,
      payload: encodePayload(value, s.codec),
      generation: entry.generation,
    })
  })
  // Keys whose read failed ('' generation) are returned but not written: Redis is failing for them.
  const storable = writes.filter((write) => write.generation !== '')
  if (storable.length === 0) return results
  let pairs: string[] | undefined
  if (tags) {
    if (stamp === undefined) return results
    pairs = pairUp(tags, stamp)
  }
  const ttls = storable.map(() => jittered(s, ttl))
  const replies = await runMany(
    s,
    fillScript,
    storable.map((write, index) => ({
      keys: [write.full],
      args: [write.generation, ttls[index]!, grace, buildBody(write.payload, pairs)],
    })),
    'getOrSetMany',
  )
  storable.forEach((write, index) => {
    const reply = replies[index]
    if (reply instanceof Error || reply === undefined) {
      redisError(s, 'getOrSetMany', write.key, reply ?? new Error('no reply'))
      return
    }
    learnClock(s, reply[1])
    if (reply[0] !== 1) refused(s, write.key)
    else {
      const freshForMs = reply[1] + ttls[index]! - serverNow(s)
      keepInL1(s, write.full, storedOf(write.payload), freshForMs, tags, seq)
    }
  })
  return results
}
