import { InvalidArgumentError } from './errors.js'
import { assertName } from './validate.js'

export interface KeyspaceOptions {
  /**
   * Longest key this keyspace builds, in bytes. Redis accepts 512 MB keys, but a key that long
   * is always a bug (a serialized object used as a key) and costs memory on every lookup.
   * @default 1024
   */
  maxKeyBytes?: number
  /**
   * Separator between parts.
   * @default ':'
   */
  separator?: string
}

export type KeyPart = string | number

export interface Keyspace {
  /** The validated prefix, without a trailing separator. */
  readonly prefix: string
  /** `prefix:part1:part2`. Parts must be non-empty and free of control characters. */
  key(...parts: KeyPart[]): string
  /**
   * `prefix:{tag}:part1`: every key built with the same `tag` lands in the same Cluster slot,
   * so one Lua script may touch them all. The tag must not contain braces.
   */
  tagged(tag: KeyPart, ...parts: KeyPart[]): string
  /** A keyspace under `prefix:sub`. */
  child(sub: KeyPart): Keyspace
  /** The SCAN pattern that matches every key of this keyspace (glob characters in the prefix escaped). */
  pattern(): string
}

/**
 * Builds and validates keys under one prefix. Validation happens here so every package rejects an
 * empty, oversized or control-character key the same way, before anything reaches Redis.
 */
export function keyspace(prefix: string, options: KeyspaceOptions = {}): Keyspace {
  const { maxKeyBytes = 1024, separator = ':' } = options
  assertName('prefix', prefix, maxKeyBytes)
  if (/[{}]/.test(prefix)) {
    // A brace in the prefix would become the hash tag of every key and pin them to one slot.
    throw new InvalidArgumentError('prefix must not contain "{" or "}"; use tagged() for hash tags')
  }
  const clean = prefix.endsWith(separator) ? prefix.slice(0, -separator.length) : prefix

  const part = (value: KeyPart, what: string): string => {
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new InvalidArgumentError(`${what} must be finite, got ${value}`)
      return String(value)
    }
    return assertName(what, value, maxKeyBytes)
  }

  const finish = (key: string): string => {
    if (Buffer.byteLength(key) > maxKeyBytes) {
      throw new InvalidArgumentError(`key is longer than ${maxKeyBytes} bytes`)
    }
    return key
  }

  return {
    prefix: clean,
    key: (...parts) => finish([clean, ...parts.map((p) => part(p, 'key part'))].join(separator)),
    tagged: (tag, ...parts) => {
      const t = part(tag, 'hash tag')
      if (/[{}]/.test(t)) throw new InvalidArgumentError('hash tag must not contain "{" or "}"')
      return finish([clean, `{${t}}`, ...parts.map((p) => part(p, 'key part'))].join(separator))
    },
    child: (sub) => keyspace(`${clean}${separator}${part(sub, 'keyspace name')}`, options),
    pattern: () => `${clean.replace(/[*?[\]\\]/g, '\\$&')}${separator}*`,
  }
}
