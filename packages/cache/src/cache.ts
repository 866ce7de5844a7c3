import { randomBytes } from 'node:crypto'
import {
  assertName,
  assertPositive,
  type Codec,
  createEmitter,
  DecodeError,
  type Emitter,
  EncodeError,
  groupBySlot,
  InvalidArgumentError,
  isCluster,
  jsonCodec,
  type RedisClient,
  toRedisError,
  unlinkByPattern,
} from '@x/redis-core'
import { createDeadlineQueue, type DeadlineQueue } from './deadline-queue.js'
import { buildBody, decodePayload, type Entry, encodePayload, parseEntry } from './envelope.js'
import { isHardTimeout, sleep, waitAtMost, withHardTimeout } from './fetch.js'
import {
  createInvalidationBus,
  encodeInvalidation,
  type InvalidationBus,
  type InvalidationMessage,
} from './invalidation-bus.js'
import { checkKey, checkKeys, checkTags, escapeGlob } from './keys.js'
import { LocalCache } from './lru.js'
import { deleteScript } from './scripts/delete.lua.js'
import { fillScript } from './scripts/fill.lua.js'
import { releaseLeaseScript } from './scripts/lease.lua.js'
import { invalidateTagsScript, tagVersionsScript } from './scripts/tags.lua.js'
import { writeScript } from './scripts/write.lua.js'
import type {
  BatchFetcher,
  Cache,
  CacheEvents,
  CacheOptions,
  CacheStats,
  FetchContext,
  Fetcher,
  GetOptions,
  GetOrSetOptions,
  SetManyEntry,
  WriteOptions,
} from './types.js'

/** A fetch others may join: only while the key is as it was when the fetch started. */
interface Flight {
  promise: Promise<unknown>
  /** Generation the fetch's read saw ('' for a bypass). */
  generation: string
  /** `invalidationSeq` when it started. */
  seq: number
}

/** State shared by a cache and its namespaces. */
interface Shared {
  redis: RedisClient
  codec: Codec
  ttl: number
  grace: number
  staleWhileRevalidate: boolean
  jitter: number
  soft: number | undefined
  hard: number | undefined
  lease: { ttl: number; pollInterval: number } | undefined
  tombstoneTtl: number
  l1: LocalCache | undefined
  publish: boolean
  bus: InvalidationBus | undefined
  channel: string
  origin: string
  tagBase: string
  emitter: Emitter<CacheEvents>
  stats: CacheStats
  onError: ((error: unknown, operation: string) => void) | undefined
  deadlines: DeadlineQueue
  /**
   * The client's own commandTimeout already bounds every call within our timeout (true for
   * createRedis clients with the defaults), so the hot-path GET needs no timer of ours.
   */
  clientTimesOut: boolean
  /** In-process single-flight: one lookup (read + fetch + write) per key at a time. */
  inflight: Map<string, Flight>
  /** Recently finished fetches and the read epoch at which they finished (see #joinOrStart). */
  completed: Map<string, Flight & { epoch: number }>
  /** Counts getOrSet reads, to tell whether a read was sent before a fetch finished. */
  readEpoch: number
  redisTimeout: number
  /** Keys with a background refresh running, so stale reads start exactly one. */
  refreshing: Set<string>
  /** Redis clock minus local clock (ms), learned from script replies; freshness uses the Redis clock. */
  clockOffset: number
  /** Bumped by every invalidation seen here; a fetch that saw it change does not fill L1. */
  invalidationSeq: number
}

type Read<T> =
  | { state: 'fresh' | 'stale'; value: T; generation: string; freshUntil: number; tags: string[] | undefined }
  | { state: 'miss'; generation: string }

interface Stale<T> {
  value: T
}

/**
 * Creates a cache on a Redis or Cluster client. Nothing is sent to Redis until the first call,
 * except the invalidation bus subscription when `l1` is set.
 */
export function createCache(options: CacheOptions): Cache {
  if (!options || typeof options !== 'object')
    throw new InvalidArgumentError('createCache needs an options object')
  if (!options.redis) throw new InvalidArgumentError('redis is required')
  const prefix = assertName('prefix', options.prefix, 256)
  if (/[{}*?[\]\\]/.test(prefix))
    throw new InvalidArgumentError('prefix must not contain braces or glob characters')
  const ttl = assertPositive('ttl', options.ttl ?? 60_000, { integer: true })
  const grace = assertPositive('grace', options.grace ?? 0, { allowZero: true, integer: true })
  const jitter = assertPositive('jitter', options.jitter ?? 0, { allowZero: true })
  if (jitter >= 1) throw new InvalidArgumentError(`jitter must be < 1, got ${jitter}`)
  const clientTimeout = commandTimeoutOf(options.redis)
  const redisTimeout = assertPositive('timeouts.redis', options.timeouts?.redis ?? clientTimeout ?? 1000, {
    integer: true,
  })
  const soft = optionalPositive('timeouts.soft', options.timeouts?.soft)
  const hard = optionalPositive('timeouts.hard', options.timeouts?.hard)
  const tombstoneTtl = assertPositive('tombstoneTtl', options.tombstoneTtl ?? 3_600_000, { integer: true })
  const distributed = options.distributedSingleFlight
  const lease =
    distributed === undefined || distributed === false
      ? undefined
      : {
          ttl: assertPositive(
            'distributedSingleFlight.leaseTtl',
            (distributed === true ? undefined : distributed.leaseTtl) ?? 5000,
            { integer: true },
          ),
          pollInterval: assertPositive(
            'distributedSingleFlight.pollInterval',
            (distributed === true ? undefined : distributed.pollInterval) ?? 25,
            { integer: true },
          ),
        }
  const l1 = options.l1
    ? new LocalCache(
        assertPositive('l1.maxEntries', options.l1.maxEntries ?? 1000, { integer: true }),
        assertPositive('l1.ttl', options.l1.ttl ?? 60_000, { integer: true }),
      )
    : undefined

  const emitter = createEmitter<CacheEvents>()
  for (const [event, listener] of Object.entries(options.events ?? {})) {
    if (typeof listener === 'function') emitter.on(event as keyof CacheEvents, listener as never)
  }

  const shared: Shared = {
    redis: options.redis,
    codec: options.codec ?? jsonCodec,
    ttl,
    grace,
    staleWhileRevalidate: options.staleWhileRevalidate ?? true,
    jitter,
    soft,
    hard,
    lease,
    tombstoneTtl,
    l1,
    publish: options.publishInvalidations ?? l1 !== undefined,
    bus: undefined,
    channel: `${prefix}:#bus`,
    origin: randomBytes(8).toString('hex'),
    tagBase: `${prefix}:#t:{${prefix}}:`,
    emitter,
    stats: {
      hits: 0,
      l1Hits: 0,
      misses: 0,
      staleServed: 0,
      fetches: 0,
      fetchErrors: 0,
      fetchTimeouts: 0,
      invalidations: 0,
      corruptEntries: 0,
      writesRefused: 0,
      redisErrors: 0,
    },
    onError: options.onError,
    deadlines: createDeadlineQueue(redisTimeout),
    clientTimesOut: clientTimeout !== undefined && clientTimeout <= redisTimeout,
    inflight: new Map(),
    completed: new Map(),
    readEpoch: 0,
    redisTimeout,
    refreshing: new Set(),
    clockOffset: 0,
    invalidationSeq: 0,
  }

  if (l1) {
    shared.bus = createInvalidationBus({
      redis: options.redis,
      channel: shared.channel,
      origin: shared.origin,
      onMessage: (message) => applyRemoteInvalidation(shared, message),
      onReconnect: () => {
        // Messages may have been missed while disconnected: nothing in L1 can be trusted.
        shared.invalidationSeq++
        shared.l1?.clear()
        shared.emitter.emit('invalidation', { prefix: '', source: 'bus' })
      },
      onError: (error) => report(shared, 'bus', error),
    })
  }
  return new RedisCache(shared, prefix)
}

/** The per-command timeout ioredis applies itself, if any (Redis or Cluster options). */
function commandTimeoutOf(redis: RedisClient): number | undefined {
  const options = redis.options as { commandTimeout?: number; redisOptions?: { commandTimeout?: number } }
  const timeout = isCluster(redis) ? options.redisOptions?.commandTimeout : options.commandTimeout
  return typeof timeout === 'number' && timeout > 0 ? timeout : undefined
}

function optionalPositive(name: string, value: number | undefined): number | undefined {
  return value === undefined ? undefined : assertPositive(name, value, { integer: true })
}

function applyRemoteInvalidation(shared: Shared, message: InvalidationMessage): void {
  shared.invalidationSeq++
  const l1 = shared.l1
  if (l1) {
    for (const key of message.keys ?? []) l1.delete(key)
    if (message.tags) l1.deleteByTags(message.tags)
    for (const prefix of message.prefixes ?? []) l1.deleteByPrefix(prefix)
  }
  shared.stats.invalidations++
  if (shared.emitter.has('invalidation')) {
    shared.emitter.emit('invalidation', {
      ...(message.keys ? { keys: message.keys } : {}),
      ...(message.tags ? { tags: message.tags } : {}),
      ...(message.prefixes?.[0] !== undefined ? { prefix: message.prefixes[0] } : {}),
      source: 'bus',
    })
  }
}

/** Errors nobody can receive: emitted as `error`, passed to onError, printed when neither exists. */
function report(shared: Shared, operation: string, error: unknown): void {
  const listened = shared.emitter.has('error')
  shared.emitter.emit('error', { operation, error })
  if (shared.onError) shared.onError(error, operation)
  else if (!listened) console.error(`[@x/cache] ${operation} failed`, error)
}

function isWrongType(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('WRONGTYPE')
}

class RedisCache implements Cache {
  readonly prefix: string
  readonly #s: Shared
  readonly #valuePrefix: string
  readonly #leasePrefix: string

  constructor(shared: Shared, prefix: string) {
    this.#s = shared
    this.prefix = prefix
    this.#valuePrefix = `${prefix}:#v:`
    this.#leasePrefix = `${prefix}:#l:`
  }

  // ---------------------------------------------------------------- reads

  /**
   * The hit-path GET: one command, bounded by the client's timeout or ours. Errors are not mapped
   * here (that would cost a promise per hit): callers pass them through `toRedisError`.
   */
  #get(full: string): Promise<string | null> {
    const s = this.#s
    if (s.clientTimesOut) return s.redis.get(full)
    return s.deadlines.run(s.redis.get(full), 'GET')
  }

  getOrSet<T>(key: string, fetcher: Fetcher<T>, options?: GetOrSetOptions): Promise<T> {
    const s = this.#s
    const full = this.#valuePrefix + checkKey(key)
    if (typeof fetcher !== 'function')
      return Promise.reject(new InvalidArgumentError('fetcher must be a function'))
    if (options !== undefined) {
      try {
        this.#checkWriteOptions(options)
        if (options.timeout) {
          optionalPositive('timeout.soft', options.timeout.soft)
          optionalPositive('timeout.hard', options.timeout.hard)
        }
      } catch (error) {
        return Promise.reject(error)
      }
    }
    if (s.l1 !== undefined) {
      const local = s.l1.get(full, Date.now())
      if (local !== undefined) {
        s.stats.l1Hits++
        if (s.emitter.has('hit')) s.emitter.emit('hit', { key, layer: 'l1' })
        return Promise.resolve(local.value as T)
      }
    }
    let tags: string[] | undefined
    try {
      tags = checkTags(options?.tags)
    } catch (error) {
      return Promise.reject(error)
    }
    return this.#lookup(full, key, fetcher, options, tags)
  }

  /**
   * In-process single-flight for the expensive part (fetch + write). Hits never touch these maps:
   * a Map insert + delete per call would cost more than the rest of a hit. A caller whose read was
   * sent before another caller's fetch completed takes that result instead of fetching again
   * (`completed` remembers it for one Redis timeout), so N concurrent cold calls fetch once.
   */
  #joinOrStart<T>(full: string, readEpoch: number, generation: string, start: () => Promise<T>): Promise<T> {
    const s = this.#s
    // Join only a fetch that saw the same generation and no invalidation since it started: a caller
    // that observed a delete, update, set or tag invalidation must not get a result read before it.
    const joinable = (flight: Flight) => flight.generation === generation && flight.seq === s.invalidationSeq
    const running = s.inflight.get(full)
    if (running !== undefined && joinable(running)) return running.promise as Promise<T>
    const done = s.completed.get(full)
    if (done !== undefined) {
      if (done.epoch >= readEpoch && joinable(done)) return done.promise as Promise<T>
      s.completed.delete(full)
    }
    const flight: Flight = { promise: start(), generation, seq: s.invalidationSeq }
    const promise = flight.promise as Promise<T>
    s.inflight.set(full, flight)
    const finish = () => {
      if (s.inflight.get(full) === flight) s.inflight.delete(full)
      const marker = { ...flight, epoch: s.readEpoch }
      s.completed.set(full, marker)
      const timer = setTimeout(() => {
        if (s.completed.get(full) === marker) s.completed.delete(full)
      }, s.redisTimeout + 100)
      timer.unref?.()
    }
    promise.then(finish, finish)
    return promise
  }

  async #lookup<T>(
    full: string,
    key: string,
    fetcher: Fetcher<T>,
    options: GetOrSetOptions | undefined,
    tags: string[] | undefined,
  ): Promise<T> {
    const s = this.#s
    const seq = s.invalidationSeq
    const readEpoch = ++s.readEpoch
    // Stamp the tags before the read, in parallel with it: the read stays one round trip, and a tag
    // invalidation during the fetch makes the stored entry a miss.
    let snapshot: Promise<string[]> | undefined
    if (tags) {
      snapshot = this.#tagVersions(tags, (options?.ttl ?? s.ttl) + (options?.grace ?? s.grace))
      snapshot.catch(() => {})
    }
    let raw: string | null
    try {
      raw = await this.#get(full)
    } catch (error) {
      if (isWrongType(error)) raw = this.#wrongType(key, error)
      else {
        this.#redisError('getOrSet', key, toRedisError(error))
        return await this.#joinOrStart(full, readEpoch, '', () => this.#bypass(key, fetcher, options))
      }
    }
    const entry = this.#parse(key, raw)
    const read =
      entry !== null && entry.kind === 'value' && entry.tags !== undefined
        ? await this.#readTagged<T>(key, entry, tags, snapshot)
        : this.#classify<T>(key, entry, undefined)
    if (read.state === 'fresh') {
      s.stats.hits++
      if (s.emitter.has('hit')) s.emitter.emit('hit', { key, layer: 'redis' })
      if (s.l1 !== undefined && seq === s.invalidationSeq) {
        s.l1.set(full, read.value, read.freshUntil - s.clockOffset, tagNames(read.tags), Date.now())
      }
      return read.value
    }
    if (read.state === 'stale' && s.staleWhileRevalidate) {
      this.#served(key, 'revalidate')
      this.#refreshInBackground(full, key, fetcher, options, read.generation, tags, snapshot, seq)
      return read.value
    }
    if (read.state === 'miss') {
      s.stats.misses++
      if (s.emitter.has('miss')) s.emitter.emit('miss', { key })
    }
    const stale = read.state === 'stale' ? { value: read.value } : undefined
    return await this.#joinOrStart(full, readEpoch, read.generation, () =>
      this.#fetchForeground(full, key, fetcher, options, read.generation, tags, snapshot, seq, stale),
    )
  }

  async get<T>(key: string, options?: GetOptions): Promise<T | undefined> {
    const read = await this.#readOne<T>(key, 'get')
    if (read.state === 'fresh' || (read.state === 'stale' && options?.allowStale)) return read.value
    return undefined
  }

  async has(key: string): Promise<boolean> {
    return (await this.#readOne(key, 'has')).state === 'fresh'
  }

  async #readOne<T>(key: string, operation: string): Promise<Read<T>> {
    const s = this.#s
    const full = this.#valuePrefix + checkKey(key)
    const local = s.l1?.get(full, Date.now())
    if (local !== undefined) {
      s.stats.l1Hits++
      if (s.emitter.has('hit')) s.emitter.emit('hit', { key, layer: 'l1' })
      return { state: 'fresh', value: local.value as T, generation: '', freshUntil: 0, tags: undefined }
    }
    const seq = s.invalidationSeq
    let raw: string | null
    try {
      raw = await this.#get(full)
    } catch (error) {
      if (!isWrongType(error)) {
        this.#redisError(operation, key, toRedisError(error))
        return { state: 'miss', generation: '0' }
      }
      raw = this.#wrongType(key, error)
    }
    const entry = this.#parse(key, raw)
    const read =
      entry !== null && entry.kind === 'value' && entry.tags !== undefined
        ? await this.#readTagged<T>(key, entry, undefined, undefined)
        : this.#classify<T>(key, entry, undefined)
    this.#count(key, read, full, seq)
    return read
  }

  async getMany<T>(keys: readonly string[], options?: GetOptions): Promise<Array<T | undefined>> {
    const reads = await this.#readMany<T>(checkKeys(keys), 'getMany', undefined)
    return reads.map((read) =>
      read.state === 'fresh' || (read.state === 'stale' && options?.allowStale) ? read.value : undefined,
    )
  }

  async getOrSetMany<T>(
    keys: readonly string[],
    fetcher: BatchFetcher<T>,
    options?: WriteOptions,
  ): Promise<Array<T | undefined>> {
    const s = this.#s
    const list = checkKeys(keys)
    if (typeof fetcher !== 'function') throw new InvalidArgumentError('fetcher must be a function')
    if (options !== undefined) this.#checkWriteOptions(options)
    const tags = checkTags(options?.tags)
    const ttl = options?.ttl ?? s.ttl
    const grace = options?.grace ?? s.grace
    const seq = s.invalidationSeq
    let snapshot: Promise<string[]> | undefined
    if (tags) {
      snapshot = this.#tagVersions(tags, ttl + grace)
      snapshot.catch(() => {})
    }
    const reads = await this.#readMany<T>(
      list,
      'getOrSetMany',
      snapshot && tags ? { tags, snapshot } : undefined,
    )
    const results: Array<T | undefined> = reads.map((read) =>
      read.state === 'fresh' ? read.value : undefined,
    )
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
    const missingKeys = [...missing.keys()]
    // As in getOrSet: fetch only after the tag versions are stamped.
    let stamp: string[] | undefined
    if (snapshot) {
      try {
        stamp = await snapshot
      } catch (error) {
        this.#redisError('getOrSetMany', undefined, error)
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
        this.#served(key, 'fetch-error')
        for (const index of entry.indices) results[index] = entry.stale?.value
      }
      return results
    }
    const resultFor = (key: string, position: number): T | undefined => {
      if (fetched instanceof Map) return fetched.get(key)
      return (fetched as ReadonlyArray<T>)[position]
    }
    if (!(fetched instanceof Map) && (!Array.isArray(fetched) || fetched.length !== missingKeys.length)) {
      throw new InvalidArgumentError(
        `batch fetcher must return a Map or an array of ${missingKeys.length} values (one per key, in order)`,
      )
    }
    // Encode everything first: a value that cannot be stored fails the call before anything is written.
    const writes: Array<{ key: string; full: string; value: T; payload: string; generation: string }> = []
    missingKeys.forEach((key, position) => {
      const value = resultFor(key, position)
      const entry = missing.get(key)!
      for (const index of entry.indices) results[index] = value
      if (value === undefined) return
      writes.push({
        key,
        full: this.#valuePrefix + key,
        value,
        payload: encodePayload(value, s.codec),
        generation: entry.generation,
      })
    })
    const storable = writes.filter((write) => write.generation !== '')
    if (storable.length === 0) return results
    let pairs: string[] | undefined
    if (tags) {
      if (stamp === undefined) return results
      pairs = pairUp(tags, stamp)
    }
    const ttls = storable.map(() => this.#jittered(ttl))
    const replies = await this.#runMany(
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
        this.#redisError('getOrSetMany', write.key, reply ?? new Error('no reply'))
        return
      }
      this.#learnClock(reply[1])
      if (reply[0] !== 1) this.#refused(write.key)
      else if (s.l1 !== undefined && seq === s.invalidationSeq) {
        s.l1.set(write.full, write.value, Date.now() + ttls[index]!, tags, Date.now())
      }
    })
    return results
  }

  // ---------------------------------------------------------------- writes

  async set<T>(key: string, value: T, options?: WriteOptions): Promise<void> {
    await this.setMany([{ key, value, ...options }])
  }

  async setMany<T>(entries: ReadonlyArray<SetManyEntry<T>>): Promise<void> {
    const s = this.#s
    if (!Array.isArray(entries)) throw new InvalidArgumentError('entries must be an array')
    const prepared = entries.map((entry) => {
      const key = checkKey(entry?.key)
      this.#checkWriteOptions(entry)
      const ttl = entry.ttl ?? s.ttl
      const grace = entry.grace ?? s.grace
      return {
        key,
        full: this.#valuePrefix + key,
        value: entry.value,
        payload: encodePayload(entry.value, s.codec),
        tags: checkTags(entry.tags),
        ttl: this.#jittered(ttl),
        grace,
      }
    })
    if (prepared.length === 0) return
    const allTags = [...new Set(prepared.flatMap((entry) => entry.tags ?? []))]
    let versions = new Map<string, string>()
    if (allTags.length > 0) {
      const longest = Math.max(...prepared.map((entry) => entry.ttl + entry.grace))
      const list = await this.#tagVersions(allTags, longest)
      versions = new Map(allTags.map((tag, index) => [tag, list[index]!]))
    }
    s.invalidationSeq++
    const replies = await this.#runMany(
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
          s.tombstoneTtl,
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
      this.#learnClock(reply[1])
      s.l1?.set(entry.full, entry.value, Date.now() + entry.ttl, entry.tags, Date.now())
    })
    await this.#publish({ keys: prepared.map((entry) => entry.full) })
    if (failure !== undefined) throw failure
  }

  async delete(key: string): Promise<boolean> {
    const s = this.#s
    const full = this.#valuePrefix + checkKey(key)
    s.invalidationSeq++
    s.l1?.delete(full)
    const [existed, now] = await s.deadlines.run(
      deleteScript.run(s.redis, [full], [s.tombstoneTtl]),
      'delete',
    )
    this.#learnClock(now)
    this.#invalidated({ keys: [key] })
    await this.#publish({ keys: [full] })
    return existed === 1
  }

  async update<T>(key: string, writer: () => T | Promise<T>, options?: WriteOptions): Promise<T> {
    const s = this.#s
    const full = this.#valuePrefix + checkKey(key)
    if (typeof writer !== 'function') throw new InvalidArgumentError('writer must be a function')
    if (options !== undefined) this.#checkWriteOptions(options)
    const tags = checkTags(options?.tags)
    const ttl = this.#jittered(options?.ttl ?? s.ttl)
    const grace = options?.grace ?? s.grace
    // Invalidate first: readers miss (and fetch the new truth) while the writer runs, and the new
    // generation is what the commit below must still find.
    s.invalidationSeq++
    s.l1?.delete(full)
    // Tags are stamped before the writer runs (in parallel with the invalidation), so a tag
    // invalidation during the writer leaves the stored result a miss, as for getOrSet.
    const [[, deletedAt, generation], versions] = await Promise.all([
      s.deadlines.run(deleteScript.run(s.redis, [full], [s.tombstoneTtl]), 'update'),
      tags ? this.#tagVersions(tags, ttl + grace) : undefined,
    ])
    this.#learnClock(deletedAt)
    await this.#publish({ keys: [full] })
    const value = await writer()
    if (value === undefined) return value
    const payload = encodePayload(value, s.codec)
    const pairs = tags && versions ? pairUp(tags, versions) : undefined
    s.invalidationSeq++
    const [stored, now] = await s.deadlines.run(
      writeScript.run(
        s.redis,
        [full],
        ['commit', generation, ttl, grace, buildBody(payload, pairs), s.tombstoneTtl],
      ),
      'update',
    )
    this.#learnClock(now)
    if (stored === 1) s.l1?.set(full, value, Date.now() + ttl, tags, Date.now())
    else this.#refused(key)
    await this.#publish({ keys: [full] })
    return value
  }

  async invalidateTags(tags: readonly string[]): Promise<void> {
    const s = this.#s
    const list = checkTags(tags)
    if (!list) return
    s.invalidationSeq++
    s.l1?.deleteByTags(list)
    await s.deadlines.run(
      invalidateTagsScript(list.length).run(
        s.redis,
        list.map((tag) => s.tagBase + tag),
      ),
      'invalidateTags',
    )
    this.#invalidated({ tags: list })
    await this.#publish({ tags: list })
  }

  async deleteByPrefix(prefix: string): Promise<number> {
    const s = this.#s
    const start = this.#valuePrefix + checkKey(prefix, 'prefix')
    s.invalidationSeq++
    s.l1?.deleteByPrefix(start)
    const removed = await unlinkByPattern(s.redis, { match: `${escapeGlob(start)}*` })
    s.l1?.deleteByPrefix(start)
    this.#invalidated({ prefix })
    await this.#publish({ prefixes: [start] })
    return removed
  }

  // ---------------------------------------------------------------- misc

  namespace(name: string): Cache {
    const checked = assertName('namespace', name, 128)
    if (/[{}*?[\]\\]/.test(checked) || checked.startsWith('#')) {
      throw new InvalidArgumentError('namespace must not start with "#" or contain braces or glob characters')
    }
    return new RedisCache(this.#s, `${this.prefix}:${checked}`)
  }

  on<K extends keyof CacheEvents>(event: K, listener: (payload: CacheEvents[K]) => void): () => void {
    return this.#s.emitter.on(event, listener)
  }

  stats(): CacheStats {
    return { ...this.#s.stats }
  }

  async ready(): Promise<void> {
    await this.#s.bus?.ready
  }

  async close(): Promise<void> {
    this.#s.bus?.close()
    this.#s.deadlines.close()
    this.#s.l1?.clear()
  }

  // ---------------------------------------------------------------- internals

  #checkWriteOptions(options: WriteOptions): void {
    if (options.ttl !== undefined) assertPositive('ttl', options.ttl, { integer: true })
    if (options.grace !== undefined)
      assertPositive('grace', options.grace, { allowZero: true, integer: true })
  }

  #jittered(ttl: number): number {
    const jitter = this.#s.jitter
    if (jitter === 0) return ttl
    return Math.max(1, ttl - Math.floor(Math.random() * jitter * ttl))
  }

  #learnClock(serverNow: number): void {
    if (typeof serverNow === 'number') this.#s.clockOffset = serverNow - Date.now()
  }

  #redisError(operation: string, key: string | undefined, error: unknown): void {
    const s = this.#s
    s.stats.redisErrors++
    if (s.emitter.has('redisError')) {
      s.emitter.emit('redisError', { operation, ...(key === undefined ? {} : { key }), error })
    }
  }

  #served(key: string, reason: CacheEvents['stale']['reason']): void {
    this.#s.stats.staleServed++
    if (this.#s.emitter.has('stale')) this.#s.emitter.emit('stale', { key, reason })
  }

  #refused(key: string): void {
    this.#s.stats.writesRefused++
    if (this.#s.emitter.has('writeRefused')) this.#s.emitter.emit('writeRefused', { key })
  }

  #invalidated(what: { keys?: string[]; tags?: string[]; prefix?: string }): void {
    this.#s.stats.invalidations++
    if (this.#s.emitter.has('invalidation'))
      this.#s.emitter.emit('invalidation', { ...what, source: 'local' })
  }

  #wrongType(key: string, error: unknown): null {
    this.#corrupt(key, new DecodeError('stored value is not a string', { cause: error }))
    return null
  }

  #corrupt(key: string, error: unknown): void {
    this.#s.stats.corruptEntries++
    if (this.#s.emitter.has('corrupt')) this.#s.emitter.emit('corrupt', { key, error })
  }

  #count<T>(key: string, read: Read<T>, full: string, seq: number): void {
    const s = this.#s
    if (read.state === 'fresh') {
      s.stats.hits++
      if (s.emitter.has('hit')) s.emitter.emit('hit', { key, layer: 'redis' })
      if (s.l1 !== undefined && seq === s.invalidationSeq && read.freshUntil > 0) {
        s.l1.set(full, read.value, read.freshUntil - s.clockOffset, tagNames(read.tags), Date.now())
      }
    } else {
      s.stats.misses++
      if (s.emitter.has('miss')) s.emitter.emit('miss', { key })
    }
  }

  async #publish(message: InvalidationMessage): Promise<void> {
    const s = this.#s
    if (!s.publish) return
    try {
      await s.deadlines.run(s.redis.publish(s.channel, encodeInvalidation(s.origin, message)), 'PUBLISH')
    } catch (error) {
      // Other instances keep their L1 entry until its (bounded) L1 ttl; say so loudly.
      report(s, 'publish', error)
    }
  }

  async #runMany<R>(
    script: {
      runMany(
        client: RedisClient,
        calls: ReadonlyArray<{ keys: string[]; args: Array<string | number> }>,
      ): Promise<Array<R | Error>>
    },
    calls: Array<{ keys: string[]; args: Array<string | number> }>,
    what: string,
  ): Promise<Array<R | Error>> {
    try {
      return await this.#s.deadlines.run(script.runMany(this.#s.redis, calls), what)
    } catch (error) {
      return calls.map(() => error as Error)
    }
  }

  /** Current versions of `tags`; `keepFor` > 0 creates missing ones and keeps them at least that long. */
  #tagVersions(tags: readonly string[], keepFor: number): Promise<string[]> {
    const s = this.#s
    return s.deadlines.run(
      tagVersionsScript(tags.length).run(
        s.redis,
        tags.map((tag) => s.tagBase + tag),
        [keepFor],
      ),
      'tag versions',
    )
  }

  /** Parses a stored string; corrupt or foreign data is reported and reads as absent. */
  #parse(key: string, raw: string | null): Entry | null {
    if (raw === null) return null
    try {
      return parseEntry(raw)
    } catch (error) {
      this.#corrupt(key, error)
      return null
    }
  }

  /** Classifies one entry given the current versions of its tags. */
  #classify<T>(key: string, entry: Entry | null, versions: ReadonlyMap<string, string> | undefined): Read<T> {
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
      value = decodePayload<T>(entry, this.#s.codec)
    } catch (error) {
      this.#corrupt(key, error)
      return { state: 'miss', generation: entry.generation }
    }
    const now = Date.now() + this.#s.clockOffset
    if (entry.freshUntil > now) {
      return { state: 'fresh', value, generation: entry.generation, freshUntil: entry.freshUntil, tags }
    }
    if (entry.hardUntil > now) {
      return { state: 'stale', value, generation: entry.generation, freshUntil: entry.freshUntil, tags }
    }
    return { state: 'miss', generation: entry.generation }
  }

  /** Classifies a tagged entry: checks its tag versions (reusing the pre-read snapshot if it covers them). */
  async #readTagged<T>(
    key: string,
    entry: Entry & { kind: 'value' },
    snapshotTags: readonly string[] | undefined,
    snapshot: Promise<string[]> | undefined,
  ): Promise<Read<T>> {
    const names = tagNames(entry.tags)!
    let versions: Map<string, string>
    try {
      if (snapshot && snapshotTags && names.every((name) => snapshotTags.includes(name))) {
        const list = await snapshot
        versions = new Map(snapshotTags.map((tag, index) => [tag, list[index]!]))
      } else {
        const list = await this.#tagVersions(names, 0)
        versions = new Map(names.map((tag, index) => [tag, list[index]!]))
      }
    } catch (error) {
      // Unverifiable tags: safer to miss than to serve something that may have been invalidated.
      this.#redisError('tag versions', key, error)
      return { state: 'miss', generation: entry.generation }
    }
    return this.#classify(key, entry, versions)
  }

  /** MGET per slot group, one tag-version call for all tagged entries. Failed reads are 'bypass'. */
  async #readMany<T>(
    keys: string[],
    operation: string,
    pre: { tags: string[]; snapshot: Promise<string[]> } | undefined,
  ): Promise<Array<Read<T> | { state: 'bypass' }>> {
    const s = this.#s
    const seq = s.invalidationSeq
    const fulls = keys.map((key) => this.#valuePrefix + key)
    const out: Array<Read<T> | { state: 'bypass' } | undefined> = new Array(keys.length)
    const raws: Array<string | null | undefined> = new Array(keys.length)
    const now = Date.now()
    const remote: number[] = []
    fulls.forEach((full, index) => {
      const local = s.l1?.get(full, now)
      if (local === undefined) {
        remote.push(index)
        return
      }
      s.stats.l1Hits++
      if (s.emitter.has('hit')) s.emitter.emit('hit', { key: keys[index]!, layer: 'l1' })
      out[index] = { state: 'fresh', value: local.value as T, generation: '', freshUntil: 0, tags: undefined }
    })
    await Promise.all(
      groupBySlot(s.redis, remote, (index) => fulls[index]!).map(async (group) => {
        try {
          const values = await s.deadlines.run(s.redis.mget(...group.map((index) => fulls[index]!)), 'MGET')
          group.forEach((index, position) => {
            raws[index] = values[position] ?? null
          })
        } catch (error) {
          this.#redisError(operation, undefined, error)
          for (const index of group) out[index] = { state: 'bypass' }
        }
      }),
    )
    const entries = new Map<number, Entry | null>()
    const names = new Set<string>()
    for (const index of remote) {
      if (out[index] !== undefined) continue
      const entry = this.#parse(keys[index]!, raws[index] ?? null)
      entries.set(index, entry)
      if (entry?.kind === 'value' && entry.tags) for (const name of tagNames(entry.tags)!) names.add(name)
    }
    let versions: Map<string, string> | undefined
    if (names.size > 0) {
      try {
        const wanted = [...names]
        if (pre && wanted.every((name) => pre.tags.includes(name))) {
          const list = await pre.snapshot
          versions = new Map(pre.tags.map((tag, index) => [tag, list[index]!]))
        } else {
          const list = await this.#tagVersions(wanted, 0)
          versions = new Map(wanted.map((tag, index) => [tag, list[index]!]))
        }
      } catch (error) {
        this.#redisError(operation, undefined, error)
      }
    }
    for (const [index, entry] of entries) {
      const read = this.#classify<T>(keys[index]!, entry, versions)
      this.#count(keys[index]!, read, fulls[index]!, seq)
      out[index] = read
    }
    return out as Array<Read<T> | { state: 'bypass' }>
  }

  /** Redis is unavailable: run the fetcher and return its value without touching the cache. */
  async #bypass<T>(key: string, fetcher: Fetcher<T>, options: GetOrSetOptions | undefined): Promise<T> {
    const s = this.#s
    const controller = new AbortController()
    let skip = false
    const context = this.#context<T>(key, undefined, controller, {
      skip: () => {
        skip = true
      },
      setTtl: () => {},
      setTags: () => {},
    })
    s.stats.fetches++
    try {
      const value = await withHardTimeout(
        Promise.resolve().then(() => fetcher(context)),
        options?.timeout?.hard ?? s.hard,
        controller,
      )
      if (value === undefined && !skip) encodePayload(value, s.codec)
      return value
    } catch (error) {
      this.#fetchFailed(key, error, false)
      throw error
    }
  }

  #context<T>(
    key: string,
    stale: Stale<T> | undefined,
    controller: AbortController,
    hooks: { skip(): void; setTtl(ttl: number): void; setTags(tags: readonly string[]): void },
  ): FetchContext<T> {
    return {
      key,
      stale: stale?.value,
      hasStale: stale !== undefined,
      signal: controller.signal,
      skip: hooks.skip,
      setTtl: (ttl) => hooks.setTtl(assertPositive('ttl', ttl, { integer: true })),
      setTags: (tags) => hooks.setTags(checkTags(tags) ?? []),
    }
  }

  #fetchFailed(key: string, error: unknown, staleServed: boolean): void {
    const s = this.#s
    if (isHardTimeout(error)) {
      s.stats.fetchTimeouts++
      s.emitter.emit('fetchTimeout', { key, kind: 'hard' })
    } else {
      s.stats.fetchErrors++
      s.emitter.emit('fetchError', { key, error, staleServed })
    }
  }

  /**
   * Runs the fetcher (hard timeout) and stores its result with a compare-and-set on `generation`.
   * Rejects with the fetcher's error, TimeoutError, or EncodeError; Redis write failures are reported.
   */
  #fetchAndStore<T>(
    full: string,
    key: string,
    fetcher: Fetcher<T>,
    options: GetOrSetOptions | undefined,
    generation: string,
    tags: string[] | undefined,
    snapshot: Promise<string[]> | undefined,
    seq: number,
    stale: Stale<T> | undefined,
  ): Promise<T> {
    const s = this.#s
    const controller = new AbortController()
    let skip = false
    let ttl = options?.ttl ?? s.ttl
    let writeTags = tags
    let tagsChanged = false
    const context = this.#context<T>(key, stale, controller, {
      skip: () => {
        skip = true
      },
      setTtl: (value) => {
        ttl = value
      },
      setTags: (value) => {
        writeTags = value.length > 0 ? [...value] : undefined
        tagsChanged = true
      },
    })
    s.stats.fetches++
    // The fetch must start after the tag versions are stamped, or an invalidation that lands in between
    // would be missed. The stamp was sent with the read, so this normally costs no extra wait.
    const stamped = snapshot?.then(
      (versions) => versions,
      (error: unknown) => {
        this.#redisError('tag versions', key, error)
        return undefined
      },
    )
    const fetched = withHardTimeout(
      (stamped ?? Promise.resolve(undefined)).then(() => fetcher(context)),
      options?.timeout?.hard ?? s.hard,
      controller,
    )
    return fetched.then(async (value) => {
      if (skip) return value
      const payload = encodePayload(value, s.codec)
      const grace = options?.grace ?? s.grace
      let pairs: string[] | undefined
      try {
        if (writeTags) {
          const versions =
            !tagsChanged && stamped ? await stamped : await this.#tagVersions(writeTags, ttl + grace)
          // Without a stamp the entry cannot be protected against invalidations: do not store it.
          if (versions === undefined) return value
          pairs = pairUp(writeTags, versions)
        }
        const jittered = this.#jittered(ttl)
        const [written, now] = await s.deadlines.run(
          fillScript.run(s.redis, [full], [generation, jittered, grace, buildBody(payload, pairs)]),
          'fill',
        )
        this.#learnClock(now)
        if (written !== 1) this.#refused(key)
        else if (s.l1 !== undefined && seq === s.invalidationSeq) {
          s.l1.set(full, value, Date.now() + jittered, writeTags, Date.now())
        }
      } catch (error) {
        // The caller still gets the value; the cache just was not filled.
        this.#redisError('fill', key, error)
      }
      return value
    })
  }

  async #fetchForeground<T>(
    full: string,
    key: string,
    fetcher: Fetcher<T>,
    options: GetOrSetOptions | undefined,
    generation: string,
    tags: string[] | undefined,
    snapshot: Promise<string[]> | undefined,
    seq: number,
    stale: Stale<T> | undefined,
  ): Promise<T> {
    const s = this.#s
    let token: string | undefined
    if (s.lease) {
      const outcome = await this.#acquireOrWait<T>(full, key)
      if (outcome.found) return outcome.value
      token = outcome.token
    }
    const work = this.#fetchAndStore(full, key, fetcher, options, generation, tags, snapshot, seq, stale)
    if (token !== undefined) {
      const release = () => this.#releaseLease(full, token)
      work.then(release, release)
    }
    const soft = options?.timeout?.soft ?? s.soft
    try {
      if (stale !== undefined && soft !== undefined) {
        const outcome = await waitAtMost(work, soft)
        if (outcome === waitAtMost.PENDING) {
          s.stats.fetchTimeouts++
          s.emitter.emit('fetchTimeout', { key, kind: 'soft' })
          this.#served(key, 'soft-timeout')
          // The fetch keeps running and fills the cache; its failure can only be reported.
          work.catch((error: unknown) => {
            this.#fetchFailed(key, error, true)
            report(s, 'refresh', error)
          })
          return stale.value
        }
        return outcome
      }
      return await work
    } catch (error) {
      const serveStale = stale !== undefined && !EncodeError.isInstance(error)
      this.#fetchFailed(key, error, serveStale)
      if (!serveStale) throw error
      this.#served(key, isHardTimeout(error) ? 'hard-timeout' : 'fetch-error')
      return stale.value
    }
  }

  #refreshInBackground<T>(
    full: string,
    key: string,
    fetcher: Fetcher<T>,
    options: GetOrSetOptions | undefined,
    generation: string,
    tags: string[] | undefined,
    snapshot: Promise<string[]> | undefined,
    seq: number,
  ): void {
    const s = this.#s
    if (s.refreshing.has(full)) return
    s.refreshing.add(full)
    void (async () => {
      let token: string | undefined
      try {
        if (s.lease) {
          token = await this.#tryLease(full)
          // Another instance is refreshing this key; its result will land in Redis.
          if (token === undefined) return
        }
        await this.#fetchAndStore(full, key, fetcher, options, generation, tags, snapshot, seq, undefined)
      } catch (error) {
        this.#fetchFailed(key, error, true)
      } finally {
        s.refreshing.delete(full)
        if (token !== undefined) this.#releaseLease(full, token)
      }
    })()
  }

  /** SET NX PX of the lease; undefined when someone else holds it (or Redis failed: reported). */
  async #tryLease(full: string): Promise<string | undefined> {
    const s = this.#s
    const token = randomBytes(12).toString('base64url')
    const leaseKey = this.#leasePrefix + full.slice(this.#valuePrefix.length)
    try {
      const reply = await s.deadlines.run(s.redis.set(leaseKey, token, 'PX', s.lease!.ttl, 'NX'), 'lease')
      return reply === 'OK' ? token : undefined
    } catch (error) {
      this.#redisError('lease', undefined, error)
      return undefined
    }
  }

  #releaseLease(full: string, token: string): void {
    const s = this.#s
    const leaseKey = this.#leasePrefix + full.slice(this.#valuePrefix.length)
    s.deadlines
      .run(releaseLeaseScript.run(s.redis, [leaseKey], [token]), 'release lease')
      .catch((error: unknown) => {
        // The lease expires by itself; waiters only wait a little longer.
        this.#redisError('release lease', undefined, error)
      })
  }

  /**
   * Distributed single-flight: take the lease and fetch, or poll for the holder's result. A waiter
   * whose holder disappears (lease gone, no value) tries to take the lease itself; after the lease
   * time it fetches without one.
   */
  async #acquireOrWait<T>(
    full: string,
    key: string,
  ): Promise<{ found: true; value: T } | { found: false; token: string | undefined }> {
    const s = this.#s
    const lease = s.lease!
    const leaseKey = this.#leasePrefix + full.slice(this.#valuePrefix.length)
    const deadline = Date.now() + lease.ttl * 2 + lease.pollInterval
    for (let attempt = 0; attempt < 3; attempt++) {
      const token = randomBytes(12).toString('base64url')
      let acquired: boolean
      try {
        acquired =
          (await s.deadlines.run(s.redis.set(leaseKey, token, 'PX', lease.ttl, 'NX'), 'lease')) === 'OK'
      } catch (error) {
        this.#redisError('lease', key, error)
        return { found: false, token: undefined }
      }
      if (acquired) return { found: false, token }
      while (Date.now() < deadline) {
        await sleep(lease.pollInterval + Math.floor(Math.random() * lease.pollInterval))
        let raw: string | null
        let held: number
        try {
          ;[raw, held] = await Promise.all([
            this.#get(full),
            s.deadlines.run(s.redis.exists(leaseKey), 'EXISTS'),
          ])
        } catch (error) {
          this.#redisError('lease wait', key, toRedisError(error))
          return { found: false, token: undefined }
        }
        const entry = this.#parse(key, raw)
        const read =
          entry !== null && entry.kind === 'value' && entry.tags !== undefined
            ? await this.#readTagged<T>(key, entry, undefined, undefined)
            : this.#classify<T>(key, entry, undefined)
        if (read.state === 'fresh') return { found: true, value: read.value }
        if (held === 0) break
      }
      if (Date.now() >= deadline) break
    }
    return { found: false, token: undefined }
  }
}

function pairUp(tags: readonly string[], versions: readonly string[]): string[] {
  const pairs: string[] = []
  tags.forEach((tag, index) => {
    pairs.push(tag, versions[index]!)
  })
  return pairs
}

function tagNames(pairs: readonly string[] | undefined): string[] | undefined {
  if (pairs === undefined) return undefined
  const names: string[] = []
  for (let index = 0; index < pairs.length; index += 2) names.push(pairs[index]!)
  return names
}
