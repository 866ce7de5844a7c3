import { assertName, InvalidArgumentError } from '@x/redis-core'

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we reject
const CONTROL = /[\u0000-\u001f\u007f]/

/**
 * Validates a cache key. The fast path (short strings) costs one regex test; 256 UTF-16 units are at
 * most 768 UTF-8 bytes, so only longer keys need the byte count.
 */
export function checkKey(key: unknown, what = 'key'): string {
  if (typeof key === 'string' && key.length > 0 && key.length <= 256 && !CONTROL.test(key)) return key
  return assertName(what, key, 1024)
}

export function checkKeys(keys: unknown): string[] {
  if (!Array.isArray(keys)) throw new InvalidArgumentError('keys must be an array of strings')
  return keys.map((key) => checkKey(key))
}

export function checkTags(tags: unknown): string[] | undefined {
  if (tags === undefined) return undefined
  if (!Array.isArray(tags)) throw new InvalidArgumentError('tags must be an array of strings')
  if (tags.length === 0) return undefined
  return [...new Set(tags.map((tag) => checkKey(tag, 'tag')))]
}

/** Characters a prefix or namespace must not contain: braces would change the hash slot, globs the SCAN match. */
export const BRACES_OR_GLOB = /[{}*?[\]\\]/

/** Escapes SCAN glob characters so a prefix matches literally. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&')
}

/**
 * What identifies an entry's state for the lease script: generation and times of a value, the whole
 * tombstone, '' for absent or unreadable data. Mirrors the pattern in acquire-lease.lua.ts.
 */
export function entryHeader(raw: string | null): string {
  if (raw === null) return ''
  const value = /^(c1\|\d+\|\d+\|\d+\|)\d+\|/.exec(raw)
  if (value !== null) return value[1]!
  return /^c1\|\d+\|t$/.test(raw) ? raw : ''
}
