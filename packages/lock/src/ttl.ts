import { assertPositive, InvalidArgumentError } from '@x/redis-core'

/** Longest ttl a timer can represent (setTimeout overflows above 2^31 − 1 ms). */
const MAX_TTL_MS = 2 ** 31 - 1

/** A lease ttl: whole ms, and no longer than a timer can represent. */
export function assertTtl(name: string, value: unknown): number {
  const ttl = assertPositive(name, value, { integer: true })
  if (ttl > MAX_TTL_MS) throw new InvalidArgumentError(`${name} must be at most ${MAX_TTL_MS} ms, got ${ttl}`)
  return ttl
}
