import { assertName, InvalidArgumentError, type Keyspace, keyspace } from '@x/redis-core'

/** Longest resource, semaphore or read-write lock name, in bytes (UTF-8). */
export const MAX_NAME_BYTES = 1024

/** Longest key prefix, in bytes. */
const MAX_PREFIX_BYTES = 256

/** `:{` + `}:` around the name and the longest suffix (`semaphore-fence`), with room to spare. */
const DECORATION_BYTES = 32

/**
 * The lock's keyspace. The name limit applies to the name the caller chose, not to the whole key:
 * the key cap leaves room for the prefix and the suffix, so every name of up to 1024 bytes fits
 * whatever the prefix.
 */
export function lockKeyspace(prefix: unknown): Keyspace {
  const clean = assertName('prefix', prefix, MAX_PREFIX_BYTES)
  return keyspace(clean, { maxKeyBytes: MAX_PREFIX_BYTES + MAX_NAME_BYTES + DECORATION_BYTES })
}

/** A name (resource, semaphore, read-write lock) as the caller gives it: 1–1024 bytes, no braces. */
export function assertLockName(what: string, name: unknown): string {
  const value = assertName(what, name, MAX_NAME_BYTES)
  // The name becomes the Cluster hash tag: a brace inside it would change the tag.
  if (/[{}]/.test(value)) throw new InvalidArgumentError(`${what} must not contain "{" or "}"`)
  return value
}
