import type { BenchContext } from '../../harness/types.js'

/** A lock as both scenarios use it: take `resource` (waiting up to waitMs), get back its release. */
export interface Locker {
  acquire(resource: string, waitMs: number): Promise<() => Promise<unknown>>
  close?(): Promise<void> | void
}

export interface LockFamily {
  implementation: string
  open(context: BenchContext): Promise<Locker>
}

/** Lease length for every implementation: long enough never to expire during a measurement. */
export const LOCK_TTL_MS = 10_000
