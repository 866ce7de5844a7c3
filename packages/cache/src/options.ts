import {
  assertName,
  assertPositive,
  type Codec,
  InvalidArgumentError,
  jsonCodec,
  type RedisClient,
} from '@x/redis-core'
import { BRACES_OR_GLOB } from './keys.js'
import type { CacheOptions, GetOrSetOptions, WriteOptions } from './types.js'

/** `createCache` options, checked and with their defaults applied. */
export interface Settings {
  redis: RedisClient
  prefix: string
  codec: Codec
  ttlMs: number
  graceMs: number
  staleWhileRevalidate: boolean
  jitter: number
  softTimeoutMs: number | undefined
  hardTimeoutMs: number | undefined
  lease: { leaseMs: number; pollIntervalMs: number } | undefined
  tombstoneTtlMs: number
  l1: { maxEntries: number; ttlMs: number } | undefined
  publish: boolean
  redisTimeoutMs: number
}

/** A duration option in milliseconds (an integer: Redis PX and Lua take whole milliseconds). */
function duration(name: string, value: unknown, options: { allowZero?: boolean } = {}): number {
  if (typeof value !== 'number') {
    throw new InvalidArgumentError(`${name} takes a number of milliseconds, got ${typeof value}`)
  }
  return assertPositive(name, value, { integer: true, ...options })
}

function optionalDuration(name: string, value: unknown): number | undefined {
  return value === undefined ? undefined : duration(name, value)
}

/** Throws InvalidArgumentError on the first bad option. */
export function resolveOptions(options: CacheOptions): Settings {
  if (!options || typeof options !== 'object')
    throw new InvalidArgumentError('createCache needs an options object')
  if (!options.redis) throw new InvalidArgumentError('redis is required')
  const prefix = assertName('prefix', options.prefix, 256)
  if (BRACES_OR_GLOB.test(prefix))
    throw new InvalidArgumentError('prefix must not contain braces or glob characters')
  const jitter = assertPositive('jitter', options.jitter ?? 0, { allowZero: true })
  if (jitter >= 1) throw new InvalidArgumentError(`jitter must be < 1, got ${jitter}`)
  const distributed = options.distributedSingleFlight
  const leaseOptions = typeof distributed === 'object' ? distributed : undefined
  const lease =
    distributed === undefined || distributed === false
      ? undefined
      : {
          leaseMs: duration('distributedSingleFlight.leaseMs', leaseOptions?.leaseMs ?? 5000),
          pollIntervalMs: duration(
            'distributedSingleFlight.pollIntervalMs',
            leaseOptions?.pollIntervalMs ?? 25,
          ),
        }
  const l1 = options.l1
    ? {
        maxEntries: assertPositive('l1.maxEntries', options.l1.maxEntries ?? 1000, { integer: true }),
        ttlMs: duration('l1.ttlMs', options.l1.ttlMs ?? 60_000),
      }
    : undefined
  return {
    redis: options.redis,
    prefix,
    codec: options.codec ?? jsonCodec,
    ttlMs: duration('ttlMs', options.ttlMs ?? 60_000),
    graceMs: duration('graceMs', options.graceMs ?? 0, { allowZero: true }),
    staleWhileRevalidate: options.staleWhileRevalidate ?? true,
    jitter,
    softTimeoutMs: optionalDuration('softTimeoutMs', options.softTimeoutMs),
    hardTimeoutMs: optionalDuration('hardTimeoutMs', options.hardTimeoutMs),
    lease,
    tombstoneTtlMs: duration('tombstoneTtlMs', options.tombstoneTtlMs ?? 3_600_000),
    l1,
    publish: options.publishInvalidations ?? l1 !== undefined,
    redisTimeoutMs: duration('redisTimeoutMs', options.redisTimeoutMs ?? 1000),
  }
}

export function checkWriteOptions(options: WriteOptions): void {
  optionalDuration('ttlMs', options.ttlMs)
  if (options.graceMs !== undefined) duration('graceMs', options.graceMs, { allowZero: true })
}

export function checkGetOrSetOptions(options: GetOrSetOptions): void {
  checkWriteOptions(options)
  optionalDuration('softTimeoutMs', options.softTimeoutMs)
  optionalDuration('hardTimeoutMs', options.hardTimeoutMs)
}
