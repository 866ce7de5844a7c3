import type { RateLimitResult } from './result.js'

export interface BlockedCacheOptions {
  /**
   * Most keys remembered; the oldest entry is dropped beyond it.
   * @default 10000
   */
  maxKeys?: number
}

interface Entry {
  /** `performance.now()` at which the key admits `cost` again. */
  until: number
  cost: number
  result: RateLimitResult
}

/**
 * Remembers rejected keys until their retry time so a client hammering a limited key costs no
 * Redis round trip. Only local monotonic time is used (a duration, not a cross-process comparison).
 * A cached rejection answers requests of the same or a larger cost only: a smaller cost may fit sooner.
 */
export class BlockedCache {
  private readonly entries = new Map<string, Entry>()

  constructor(private readonly maxKeys: number) {}

  get size(): number {
    return this.entries.size
  }

  get(key: string, cost: number): RateLimitResult | undefined {
    const entry = this.entries.get(key)
    if (entry === undefined) return undefined
    const now = performance.now()
    if (now >= entry.until) {
      this.entries.delete(key)
      return undefined
    }
    if (cost < entry.cost) return undefined
    return { ...entry.result, retryAfterMs: Math.ceil(entry.until - now), reason: 'cached' }
  }

  remember(key: string, cost: number, result: RateLimitResult): void {
    const wait = result.retryAfterMs
    if (!(wait > 0) || !Number.isFinite(wait)) return
    this.entries.delete(key)
    // Map iteration order is insertion order: the first entry is the oldest.
    while (this.entries.size >= this.maxKeys) {
      for (const [oldest] of this.entries) {
        this.entries.delete(oldest)
        break
      }
    }
    this.entries.set(key, { until: performance.now() + wait, cost, result })
  }

  forget(key: string): void {
    this.entries.delete(key)
  }
}
