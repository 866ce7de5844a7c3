/** One in-process entry. `freshUntil` is local milliseconds. */
export interface LocalEntry {
  value: unknown
  freshUntil: number
  /** Value of the insertion counter when the entry was last moved to the recent end. */
  stamp: number
  /** Tag names, for eviction on tag invalidation. */
  tags: readonly string[] | undefined
}

/**
 * A bounded, approximately-LRU cache on a Map (insertion order = recency). Moving a key to the end
 * (delete + set) costs more than the rest of a hit together, so a hit only moves it when a quarter
 * of the capacity has been inserted since its last move: hot keys stay far from the evicting end,
 * and the common hit is one Map lookup. Entries are only ever fresh values: they expire at the fresh
 * time they had in Redis, never later, so L1 can never serve something Redis would not.
 */
export class LocalCache {
  readonly #entries = new Map<string, LocalEntry>()
  readonly #maxEntries: number
  readonly #maxTtl: number
  readonly #moveAfter: number
  #inserted = 0

  constructor(maxEntries: number, maxTtl: number) {
    this.#maxEntries = maxEntries
    this.#maxTtl = maxTtl
    this.#moveAfter = Math.max(1, maxEntries >> 2)
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
    if (this.#inserted - entry.stamp >= this.#moveAfter) {
      this.#entries.delete(key)
      this.#entries.set(key, entry)
      entry.stamp = ++this.#inserted
    }
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
    this.#entries.set(key, { value, freshUntil: until, tags, stamp: ++this.#inserted })
    if (this.#entries.size > this.#maxEntries) {
      // A Map iterates in insertion order, and set() re-inserts on every write: the first is the oldest.
      for (const [oldest] of this.#entries) {
        this.#entries.delete(oldest)
        break
      }
    }
  }

  delete(key: string): void {
    this.#entries.delete(key)
  }

  deleteByPrefix(prefix: string): void {
    for (const [key] of this.#entries) if (key.startsWith(prefix)) this.#entries.delete(key)
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
