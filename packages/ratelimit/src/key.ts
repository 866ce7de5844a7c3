import { assertName, InvalidArgumentError } from '@x/redis-core'
import type { Policy } from './policy.js'

const LETTER = { gcra: 'g', 'sliding-window': 's', 'fixed-window': 'f', 'sliding-log': 'l' } as const

/** Longest limited key accepted, in bytes. */
export const MAX_KEY_BYTES = 512

/** Validates a limited key: non-empty, no control characters, no braces (they would change the hash tag). */
export function assertKey(key: unknown): string {
  assertName('key', key, MAX_KEY_BYTES)
  const value = key as string
  if (value.includes('{') || value.includes('}')) {
    throw new InvalidArgumentError('key must not contain "{" or "}": it becomes the Redis Cluster hash tag')
  }
  return value
}

/**
 * `prefix:{key}:!` for the block marker and `prefix:{key}:letter:name` per policy: every key of one
 * check shares the hash tag `{key}`, so one script may touch them all on Cluster. The algorithm
 * letter keeps a policy whose algorithm changed from reading the old layout.
 */
export function keysOf(prefix: string, key: string, suffixes: readonly string[]): string[] {
  const base = `${prefix}:{${key}}:`
  const keys = new Array<string>(suffixes.length + 1)
  keys[0] = `${base}!`
  for (let i = 0; i < suffixes.length; i++) keys[i + 1] = base + suffixes[i]
  return keys
}

/** The policy part of a key: the algorithm letter, then the name unless it is `default` (short keys are small keys). */
export function policySuffix(policy: Policy): string {
  const letter = LETTER[policy.algorithm]
  return policy.name === 'default' ? letter : `${letter}:${policy.name}`
}
