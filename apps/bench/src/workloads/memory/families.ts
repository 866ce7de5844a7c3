import type { BenchContext } from '../../harness/types.js'
import type { Footprint } from './footprint.js'

/** One line of the memory table: what was stored, and how many bytes Redis needs for it. */
export interface MemoryProbe {
  implementation: string
  what: string
  measure(context: BenchContext): Promise<Footprint>
}

/** Rate-limit probes use this limit, so most of the 10k requests are refused, as under attack. */
export const PROBE_LIMIT = 100
export const PROBE_WINDOW_MS = 60_000
