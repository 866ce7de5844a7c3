import { assertDuration, InvalidArgumentError } from '@x/redis-core'

/** A lease ttl: whole milliseconds (Redis's PX), up to the longest delay a timer accepts. */
export function assertTtl(name: string, value: unknown): number {
  const ttl = assertDuration(name, value)
  if (!Number.isInteger(ttl))
    throw new InvalidArgumentError(`${name} must be a whole number of ms, got ${ttl}`)
  return ttl
}
