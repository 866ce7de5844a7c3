import { nanoid } from 'nanoid'
import { InvalidArgumentError } from './errors.js'

/**
 * A random id from the operating system's CSPRNG, in nanoid's URL-safe alphabet (`A-Za-z0-9_-`,
 * 6 bits per character). The size states the entropy a use needs:
 *
 * | use | size | bits |
 * |---|---|---|
 * | lock and semaphore lease tokens, concurrency-limiter leases | 21 | 126 |
 * | session id (public part, also in the user index) | 16 | 96 |
 * | session secret (hashed in Redis, never stored) | 43 | 258 |
 * | stream consumer names, instance ids | 10 | 60 |
 *
 * @param size number of characters, 1..1024
 * @default 21
 */
export function randomId(size = 21): string {
  if (!Number.isInteger(size) || size < 1 || size > 1024) {
    throw new InvalidArgumentError(`randomId size must be an integer within 1..1024, got ${size}`)
  }
  return nanoid(size)
}
