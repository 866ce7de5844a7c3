import type { Codec, RedisClient } from '@x/redis-core'

export interface CacheOptions {
  /** The client (Redis or Cluster). The cache never closes it. */
  redis: RedisClient
  /** Prefix of every key the cache writes (`prefix:#v:<key>` for values). No braces or glob characters. */
  prefix: string
  /**
   * How long a value is fresh, in milliseconds.
   * @default 60000
   */
  ttlMs?: number
  /**
   * How long after `ttlMs` a stale value is kept for stale-while-revalidate and fail-safe, in ms.
   * @default 0
   */
  graceMs?: number
  /**
   * Serve a stale value (within grace) at once and refresh it in the background. When false, a stale
   * value is only served when the fetcher fails, times out, or exceeds the soft timeout.
   * @default true
   */
  staleWhileRevalidate?: boolean
  /**
   * TTL jitter as a fraction in [0, 1): each write's ttl is shortened by a random amount up to
   * `jitter × ttlMs`, so keys written together do not expire together.
   * @default 0
   */
  jitter?: number
  /** @default jsonCodec (strict JSON from @x/redis-core) */
  codec?: Codec
  /**
   * Longest wait for any Redis call of the cache, whatever the client's own `commandTimeout`. A read
   * past it is a miss (getOrSet runs the fetcher without the cache); a write rejects with TimeoutError.
   * @default 1000
   */
  redisTimeoutMs?: number
  /**
   * When a stale value exists and the fetcher is still running after this many ms, serve the stale
   * value and let the fetch finish in the background.
   * @default undefined (no soft timeout)
   */
  softTimeoutMs?: number
  /**
   * Give up on the fetcher after this many ms: its signal is aborted, and the caller gets the stale
   * value if one exists, else FetchTimeoutError.
   * @default undefined (no hard timeout)
   */
  hardTimeoutMs?: number
  /**
   * Cross-process single-flight: on a miss, one instance takes a short Redis lease and fetches; the
   * others wait for its result and fetch themselves when the lease expires.
   * @default false
   */
  distributedSingleFlight?:
    | boolean
    | {
        /** Lease length in ms; make it longer than a normal fetch. @default 5000 */
        leaseMs?: number
        /** How often a waiter checks for the holder's result, in ms. @default 25 */
        pollIntervalMs?: number
      }
  /** In-process LRU in front of Redis, kept coherent by the invalidation bus. @default undefined (off) */
  l1?: {
    /** @default 1000 */
    maxEntries?: number
    /** Longest an entry stays in L1 (never longer than its fresh time in Redis), ms. @default 60000 */
    ttlMs?: number
  }
  /**
   * Publish invalidations on the bus. On by default when `l1` is set; turn it on for instances without
   * L1 that share keys with instances that have one.
   * @default l1 !== undefined
   */
  publishInvalidations?: boolean
  /**
   * How long a delete/update tombstone protects against a late write-back of an older fetch, ms.
   * Make it longer than your slowest fetch.
   * @default 3600000
   */
  tombstoneTtlMs?: number
}

export type CacheEvents = {
  /** A fresh value was served (`layer: 'l1'` = from memory). */
  hit: { key: string; layer: 'l1' | 'redis' }
  miss: { key: string }
  /** A stale value was served (stale-while-revalidate, fail-safe or soft timeout). */
  stale: { key: string; reason: 'revalidate' | 'fetch-error' | 'soft-timeout' | 'hard-timeout' }
  fetchError: { key: string; error: unknown; staleServed: boolean }
  fetchTimeout: { key: string; kind: 'soft' | 'hard' }
  /** Keys, tags or a prefix were invalidated, here (`local`) or on another instance (`bus`). */
  invalidation: { keys?: string[]; tags?: string[]; prefix?: string; source: 'local' | 'bus' }
  /** A stored value could not be read; treated as a miss. */
  corrupt: { key: string; error: unknown }
  /** A fetch result was not written because the key changed while it ran (no stale write-back). */
  writeRefused: { key: string }
  /**
   * An error no caller can receive: Redis failed or timed out and the cache fell back (a read became a
   * miss, getOrSet ran the fetcher without the cache, a fill or publish was skipped), a background
   * refresh failed, a stale value was served for a failing fetcher, the bus failed. When nobody
   * listens, one line per operation and error code is printed every 10 s at most.
   */
  error: { operation: string; error: unknown; key?: string }
}

/** Counters since the cache was created (shared with its namespaces) and current gauges. */
export interface CacheStats {
  /** Fresh values served from Redis. */
  hits: number
  /** Fresh values served from the in-process L1. */
  l1Hits: number
  misses: number
  /** Stale values served (stale-while-revalidate, fail-safe, soft or hard timeout). */
  staleHits: number
  /** Fetcher runs. */
  fetches: number
  fetchErrors: number
  /** Fetcher runs past their soft or hard timeout. */
  fetchTimeouts: number
  invalidations: number
  corruptEntries: number
  /** Fills and updates not written because the key changed while they ran. */
  refusedWrites: number
  /** Redis calls that failed or timed out. */
  redisErrors: number
  /** Of those, the ones that timed out. */
  timeouts: number
  /** Entries in the L1 now. */
  l1Entries: number
  /** Fetches running now in this process (one per key). */
  fetchesInFlight: number
}

export interface WriteOptions {
  /** Fresh time in ms. @default the cache's ttlMs */
  ttlMs?: number
  /** Grace after the fresh time in ms. @default the cache's graceMs */
  graceMs?: number
  /** Tags for group invalidation. */
  tags?: readonly string[]
}

export interface GetOrSetOptions extends WriteOptions {
  /** Serve the stale value after this many ms and let the fetch finish. @default the cache's softTimeoutMs */
  softTimeoutMs?: number
  /** Give up on the fetcher after this many ms. @default the cache's hardTimeoutMs */
  hardTimeoutMs?: number
}

export interface GetOptions {
  /** Return a stale value (within grace) instead of undefined. @default false */
  allowStale?: boolean
}

/** What a fetcher sees and can change. */
export interface FetchContext<T> {
  /** The key as passed to getOrSet. */
  readonly key: string
  /** The stale value, when one within grace exists. */
  readonly stale: T | undefined
  readonly hasStale: boolean
  /** Aborted when the hard timeout passes. */
  readonly signal: AbortSignal
  /** Return the value to the caller but do not cache it (also allows `undefined`). */
  skip(): void
  /** Change the fresh time (ms) of this result. */
  setTtlMs(ttlMs: number): void
  /**
   * Replace the tags of this result. Tags known before the fetch (options.tags) are stamped before
   * it runs; tags added here are stamped after it, so an invalidation of them during the fetch is missed.
   */
  setTags(tags: readonly string[]): void
}

export type Fetcher<T> = (context: FetchContext<T>) => T | Promise<T>

export type BatchFetcher<T> = (keys: string[]) => Promise<ReadonlyArray<T> | ReadonlyMap<string, T>>

export interface SetManyEntry<T> extends WriteOptions {
  key: string
  value: T
}

export interface Cache {
  /** The prefix of this cache or namespace. */
  readonly prefix: string
  /** Cache-aside: the cached value, or the fetcher's (stored), with single-flight, SWR and fail-safe. */
  getOrSet<T>(key: string, fetcher: Fetcher<T>, options?: GetOrSetOptions): Promise<T>
  /** The fresh value, or undefined (also when Redis fails: reported as `redisError`). */
  get<T>(key: string, options?: GetOptions): Promise<T | undefined>
  has(key: string): Promise<boolean>
  /** Write-through: stores under a new generation, so older in-flight fetches cannot overwrite it. */
  set<T>(key: string, value: T, options?: WriteOptions): Promise<void>
  /** Removes the value and protects the key from older in-flight fetches. True if a value existed. */
  delete(key: string): Promise<boolean>
  getMany<T>(keys: readonly string[], options?: GetOptions): Promise<Array<T | undefined>>
  setMany<T>(entries: ReadonlyArray<SetManyEntry<T>>): Promise<void>
  /** Reads all keys, calls `fetcher` once with the misses, stores what it returns. */
  getOrSetMany<T>(
    keys: readonly string[],
    fetcher: BatchFetcher<T>,
    options?: WriteOptions,
  ): Promise<Array<T | undefined>>
  /** SCAN + UNLINK of every key starting with `prefix` on every master. Returns the count removed. */
  deleteByPrefix(prefix: string): Promise<number>
  /** Every entry carrying one of `tags` reads as a miss from now on. One round trip. */
  invalidateTags(tags: readonly string[]): Promise<void>
  /**
   * Write-through around a source-of-truth update: invalidates, runs `writer`, stores its result
   * unless the key changed meanwhile (then leaves it invalidated). Returns the writer's result.
   */
  update<T>(key: string, writer: () => T | Promise<T>, options?: WriteOptions): Promise<T>
  /** A cache under `prefix:name`, sharing connection, L1, bus, events and stats. */
  namespace(name: string): Cache
  on<K extends keyof CacheEvents>(event: K, listener: (payload: CacheEvents[K]) => void): () => void
  stats(): CacheStats
  /** Resolves when the invalidation bus is subscribed (at once without L1). */
  ready(): Promise<void>
  /** Stops the bus and timers; the Redis client stays open. Idempotent. */
  close(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}
