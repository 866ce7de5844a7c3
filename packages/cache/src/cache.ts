import { assertName, InvalidArgumentError, type OperationTracer } from '@x/redis-core'
import { getOrSet } from './get-or-set.js'
import { getOrSetMany } from './get-or-set-many.js'
import { deleteByPrefix, invalidateTags } from './invalidation.js'
import { BRACES_OR_GLOB } from './keys.js'
import { type Read, readOne } from './read.js'
import { getMany } from './read-many.js'
import { type CacheState, createScope, type Scope } from './state.js'
import { type CacheOutcome, type CacheTraceContext, tracing } from './tracing.js'
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

const traced = {
  getOrSet: tracing.operation('getOrSet'),
  get: tracing.operation('get'),
  has: tracing.operation('has'),
  getMany: tracing.operation('getMany'),
  getOrSetMany: tracing.operation('getOrSetMany'),
  set: tracing.operation('set'),
  setMany: tracing.operation('setMany'),
  delete: tracing.operation('delete'),
  update: tracing.operation('update'),
  invalidateTags: tracing.operation('invalidateTags'),
  deleteByPrefix: tracing.operation('deleteByPrefix'),
}

/**
 * Runs `fn` on the operation's tracing channel when someone subscribes; else just runs it. The
 * channel sees `undefined` as the result: diagnostics_channel puts the result into the context
 * (`context.result`), and a cached value must never reach a subscriber.
 */
function run<T>(
  tracer: OperationTracer,
  context: () => CacheTraceContext,
  fn: (trace: CacheTraceContext | undefined) => Promise<T>,
): Promise<T> {
  if (!tracer.active) return fn(undefined)
  const trace = context()
  let result: T
  return tracer
    .trace(trace, async () => {
      result = await fn(trace)
    })
    .then(() => result)
}

const named = (key: unknown) => (typeof key === 'string' ? { key } : {})
const counted = (list: unknown) => (Array.isArray(list) ? { keys: list.length } : {})

/**
 * The public facade: every operation on its `x:cache:<operation>` tracing channel. Namespaces share
 * one CacheState and differ only in their Scope (key prefixes).
 */
export class RedisCache implements Cache {
  readonly prefix: string
  readonly #scope: Scope

  constructor(state: CacheState, prefix: string) {
    this.prefix = prefix
    this.#scope = createScope(state, prefix)
  }

  getOrSet<T>(key: string, fetcher: Fetcher<T>, options?: GetOrSetOptions): Promise<T> {
    // The hit path: one boolean check when nobody subscribes, no closure.
    if (!traced.getOrSet.active) return getOrSet(this.#scope, key, fetcher, options, undefined)
    return run(
      traced.getOrSet,
      () => named(key),
      (trace) => getOrSet(this.#scope, key, fetcher, options, trace),
    )
  }

  get<T>(key: string, options?: GetOptions): Promise<T | undefined> {
    return run(
      traced.get,
      () => named(key),
      async (trace) => {
        const read = await readOne<T>(this.#scope, key, 'get', trace)
        const served = read.state === 'fresh' || (read.state === 'stale' && options?.allowStale === true)
        if (trace) trace.outcome = outcomeOf(read, served)
        return served ? (read as { value: T }).value : undefined
      },
    )
  }

  has(key: string): Promise<boolean> {
    return run(
      traced.has,
      () => named(key),
      async (trace) => {
        const read = await readOne(this.#scope, key, 'has', trace)
        if (trace) trace.outcome = outcomeOf(read, read.state === 'fresh')
        return read.state === 'fresh'
      },
    )
  }

  getMany<T>(keys: readonly string[], options?: GetOptions): Promise<Array<T | undefined>> {
    return run(
      traced.getMany,
      () => counted(keys),
      () => getMany(this.#scope, keys, options),
    )
  }

  getOrSetMany<T>(
    keys: readonly string[],
    fetcher: BatchFetcher<T>,
    options?: WriteOptions,
  ): Promise<Array<T | undefined>> {
    return run(
      traced.getOrSetMany,
      () => counted(keys),
      () => getOrSetMany(this.#scope, keys, fetcher, options),
    )
  }

  set<T>(key: string, value: T, options?: WriteOptions): Promise<void> {
    return run(
      traced.set,
      () => named(key),
      async (trace) => {
        await setMany(this.#scope, [{ key, value, ...options }])
        if (trace) trace.outcome = 'written'
      },
    )
  }

  setMany<T>(entries: ReadonlyArray<SetManyEntry<T>>): Promise<void> {
    return run(
      traced.setMany,
      () => counted(entries),
      () => setMany(this.#scope, entries),
    )
  }

  delete(key: string): Promise<boolean> {
    return run(
      traced.delete,
      () => named(key),
      (trace) => deleteKey(this.#scope, key, trace),
    )
  }

  update<T>(key: string, writer: () => T | Promise<T>, options?: WriteOptions): Promise<T> {
    return run(
      traced.update,
      () => named(key),
      (trace) => update(this.#scope, key, writer, options, trace),
    )
  }

  invalidateTags(tags: readonly string[]): Promise<void> {
    return run(
      traced.invalidateTags,
      () => (Array.isArray(tags) ? { tags: tags.filter((tag) => typeof tag === 'string') } : {}),
      () => invalidateTags(this.#scope.state, tags),
    )
  }

  deleteByPrefix(prefix: string): Promise<number> {
    return run(
      traced.deleteByPrefix,
      () => (typeof prefix === 'string' ? { prefix } : {}),
      () => deleteByPrefix(this.#scope, prefix),
    )
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

  /** Stops the bus and timers; the Redis client stays open. Idempotent. */
  async close(): Promise<void> {
    const s = this.#scope.state
    s.l1?.clear()
    await s.bus?.close()
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }
}

/** The outcome of a single-key read: from L1 (no stored form), from Redis, or nothing served. */
function outcomeOf(read: Read<unknown>, served: boolean): CacheOutcome {
  if (!served || read.state === 'miss') return 'miss'
  if (read.state === 'stale') return 'stale'
  return read.stored === undefined ? 'hit-l1' : 'hit-l2'
}
