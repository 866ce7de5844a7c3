import { assertName, InvalidArgumentError } from '@x/redis-core'
import { getOrSet } from './get-or-set.js'
import { getOrSetMany } from './get-or-set-many.js'
import { deleteByPrefix, invalidateTags } from './invalidation.js'
import { BRACES_OR_GLOB } from './keys.js'
import { readOne } from './read.js'
import { getMany } from './read-many.js'
import { type CacheState, createScope, type Scope } from './state.js'
import type {
  BatchFetcher,
  Cache,
  CacheEvents,
  CacheStats,
  Fetcher,
  GetOptions,
  GetOrSetOptions,
  SetManyEntry,
  WriteOptions,
} from './types.js'
import { deleteKey, setMany, update } from './write.js'

/** Namespaces share one CacheState and differ only in their Scope (key prefixes). */
export class RedisCache implements Cache {
  readonly prefix: string
  readonly #scope: Scope

  constructor(state: CacheState, prefix: string) {
    this.prefix = prefix
    this.#scope = createScope(state, prefix)
  }

  getOrSet<T>(key: string, fetcher: Fetcher<T>, options?: GetOrSetOptions): Promise<T> {
    return getOrSet(this.#scope, key, fetcher, options)
  }

  async get<T>(key: string, options?: GetOptions): Promise<T | undefined> {
    const read = await readOne<T>(this.#scope, key, 'get')
    if (read.state === 'fresh' || (read.state === 'stale' && options?.allowStale)) return read.value
    return undefined
  }

  async has(key: string): Promise<boolean> {
    return (await readOne(this.#scope, key, 'has')).state === 'fresh'
  }

  getMany<T>(keys: readonly string[], options?: GetOptions): Promise<Array<T | undefined>> {
    return getMany(this.#scope, keys, options)
  }

  getOrSetMany<T>(
    keys: readonly string[],
    fetcher: BatchFetcher<T>,
    options?: WriteOptions,
  ): Promise<Array<T | undefined>> {
    return getOrSetMany(this.#scope, keys, fetcher, options)
  }

  set<T>(key: string, value: T, options?: WriteOptions): Promise<void> {
    return setMany(this.#scope, [{ key, value, ...options }])
  }

  setMany<T>(entries: ReadonlyArray<SetManyEntry<T>>): Promise<void> {
    return setMany(this.#scope, entries)
  }

  delete(key: string): Promise<boolean> {
    return deleteKey(this.#scope, key)
  }

  update<T>(key: string, writer: () => T | Promise<T>, options?: WriteOptions): Promise<T> {
    return update(this.#scope, key, writer, options)
  }

  invalidateTags(tags: readonly string[]): Promise<void> {
    return invalidateTags(this.#scope.state, tags)
  }

  deleteByPrefix(prefix: string): Promise<number> {
    return deleteByPrefix(this.#scope, prefix)
  }

  namespace(name: string): Cache {
    const checked = assertName('namespace', name, 128)
    // '#' starts the cache's own key kinds (#v, #l, #t, #bus).
    if (BRACES_OR_GLOB.test(checked) || checked.startsWith('#')) {
      throw new InvalidArgumentError('namespace must not start with "#" or contain braces or glob characters')
    }
    return new RedisCache(this.#scope.state, `${this.prefix}:${checked}`)
  }

  on<K extends keyof CacheEvents>(event: K, listener: (payload: CacheEvents[K]) => void): () => void {
    return this.#scope.state.emitter.on(event, listener)
  }

  stats(): CacheStats {
    const s = this.#scope.state
    return { ...s.stats, l1Entries: s.l1?.size ?? 0, fetchesInFlight: s.inflight.size }
  }

  async ready(): Promise<void> {
    await this.#scope.state.bus?.ready
  }

  async close(): Promise<void> {
    const s = this.#scope.state
    s.deadlines.close()
    s.l1?.clear()
    await s.bus?.close()
  }
}
