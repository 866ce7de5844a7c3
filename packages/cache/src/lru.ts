/** One in-process entry. `freshUntil` is local milliseconds. */
export interface LocalEntry {
  value: unknown
  freshUntil: number
  /** Tag names, for eviction on tag invalidation. */
  tags: readonly string[] | undefined
}

/**
 * A bounded LRU on a Map (insertion order = recency; a hit moves the key to the end). Entries are
 * only ever fresh values: they expire at the fresh time they had in Redis, never later, so L1 can
 * never serve something Redis would not.
 */
export class LocalCache {
  readonly #entries = new Map<string, LocalEntry>()
  readonly #maxEntries: number
  readonly #maxTtl: number

  constructor(maxEntries: number, maxTtl: number) {
    this.#maxEntries = maxEntries
    this.#maxTtl = maxTtl
  }

  get size(): number {
    return this.#entries.size
  }

  /** The fresh entry, or undefined (expired entries are dropped). */
  get(key: string, now: number): LocalEntry | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    if (entry.freshUntil <= now) {
      this.#entries.delete(key)
      return undefined
    }
    this.#entries.delete(key)
    this.#entries.set(key, entry)
    return entry
  }

  set(
    key: string,
    value: unknown,
    freshUntil: number,
    tags: readonly string[] | undefined,
    now: number,
  ): void {
    const until = Math.min(freshUntil, now + this.#maxTtl)
    if (until <= now) {
      this.#entries.delete(key)
      return
    }
    this.#entries.delete(key)
    this.#entries.set(key, { value, freshUntil: until, tags })
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value
      if (oldest !== undefined) this.#entries.delete(oldest)
    }
  }

  delete(key: string): void {
    this.#entries.delete(key)
  }

  deleteByPrefix(prefix: string): void {
    for (const key of this.#entries.keys()) if (key.startsWith(prefix)) this.#entries.delete(key)
  }

  deleteByTags(tags: readonly string[]): void {
    const wanted = new Set(tags)
    for (const [key, entry] of this.#entries) {
      if (entry.tags?.some((tag) => wanted.has(tag))) this.#entries.delete(key)
    }
  }

  clear(): void {
    this.#entries.clear()
  }
}
