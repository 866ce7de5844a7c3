import type { RedisClient } from './create-redis.js'
import { InvalidArgumentError } from './errors.js'
import { redact } from './redact.js'

/** The largest delay a Node.js timer accepts (2^31 - 1 ms, about 24.8 days). */
export const MAX_DURATION_MS = 2_147_483_647

export interface DurationBounds {
  /**
   * Smallest accepted value, in milliseconds.
   * @default 1
   */
  min?: number
  /**
   * Largest accepted value, in milliseconds.
   * @default 2_147_483_647 (the largest Node.js timer delay)
   */
  max?: number
  /**
   * Accept 0 as well (for "off" or "no wait").
   * @default false
   */
  allowZero?: boolean
}

/**
 * Throws `InvalidArgumentError` unless `value` is a finite number of milliseconds within bounds.
 * Durations are plain numbers everywhere, so `'5m'` or `300n` get a message that says so.
 */
export function assertDuration(name: string, value: unknown, bounds: DurationBounds = {}): number {
  const { min = 1, max = MAX_DURATION_MS, allowZero = false } = bounds
  if (typeof value !== 'number') {
    const hint = typeof value === 'string' || typeof value === 'bigint' ? ' (e.g. 300000 for 5 minutes)' : ''
    throw new InvalidArgumentError(`${name} takes milliseconds as a number${hint}, got ${describe(value)}`)
  }
  if (!Number.isFinite(value)) {
    throw new InvalidArgumentError(`${name} must be a finite number of milliseconds, got ${value}`)
  }
  if (allowZero && value === 0) return value
  if (value < min || value > max) {
    const range = `${allowZero ? `0 or ${min}` : min}..${max}`
    throw new InvalidArgumentError(`${name} must be within ${range} ms, got ${value}`)
  }
  return value
}

/**
 * The one "is this an ioredis client?" check: a `Redis` or a `Cluster` from ioredis 5 or 6.
 * Duck-typed rather than `instanceof`, so a client from another copy of ioredis in the tree passes;
 * a node-redis client, a plain object or a URL string is rejected with `InvalidArgumentError`.
 */
export function assertRedisClient(value: unknown, name = 'redis'): asserts value is RedisClient {
  const client = value as Record<string, unknown> | null
  const ok =
    typeof client === 'object' &&
    client !== null &&
    typeof client.evalsha === 'function' &&
    typeof client.pipeline === 'function' &&
    typeof client.duplicate === 'function' &&
    typeof client.on === 'function' &&
    typeof client.status === 'string' &&
    typeof client.isCluster === 'boolean' &&
    (client.isCluster === false || typeof client.nodes === 'function')
  if (!ok) {
    throw new InvalidArgumentError(
      `${name} must be an ioredis Redis or Cluster client, got ${describe(value)}${typeof value === 'string' ? ' (pass a client, e.g. createRedis({ url }))' : ''}`,
    )
  }
}

/** Throws unless `value` is a finite number > 0 (or >= 0 with `allowZero`). */
export function assertPositive(
  name: string,
  value: unknown,
  options: { allowZero?: boolean; integer?: boolean } = {},
): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidArgumentError(`${name} must be a finite number, got ${describe(value)}`)
  }
  if (options.allowZero ? value < 0 : value <= 0) {
    throw new InvalidArgumentError(`${name} must be ${options.allowZero ? '>= 0' : '> 0'}, got ${value}`)
  }
  if (options.integer && !Number.isInteger(value)) {
    throw new InvalidArgumentError(`${name} must be an integer, got ${value}`)
  }
  return value
}

/** Throws unless `value` is a non-empty string without control characters, at most `maxBytes` long. */
export function assertName(name: string, value: unknown, maxBytes = 512): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidArgumentError(`${name} must be a non-empty string, got ${describe(value)}`)
  }
  if (Buffer.byteLength(value) > maxBytes) {
    throw new InvalidArgumentError(`${name} is longer than ${maxBytes} bytes`)
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we reject
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    throw new InvalidArgumentError(`${name} must not contain control characters`)
  }
  return value
}

export function describe(value: unknown): string {
  if (typeof value === 'string') {
    // A string passed where a client belongs is often a URL with its password: redact, then cut.
    const shown = redact(value)
    return JSON.stringify(shown.length > 40 ? `${shown.slice(0, 40)}…` : shown)
  }
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    return String(value)
  if (value === null) return 'null'
  if (value === undefined) return 'undefined'
  return typeof value
}
