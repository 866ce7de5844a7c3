import {
  assertDuration,
  assertName,
  assertPositive,
  assertRedisClient,
  type Codec,
  type DurationBounds,
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

/** Durations kept by Redis (not Node timers) may be longer than a timer allows: up to a year. */
const YEAR_MS = 365 * 24 * 60 * 60 * 1000

/** A duration option in milliseconds, whole (Redis PX and the Lua scripts take whole milliseconds). */
function duration(name: string, value: unknown, bounds: DurationBounds = {}): number {
  const checked = assertDuration(name, value, bounds)
  if (!Number.isInteger(checked)) {
    throw new InvalidArgumentError(`${name} must be a whole number of milliseconds, got ${checked}`)
  }
  return checked
}

function optionalDuration(name: string, value: unknown, bounds: DurationBounds = {}): number | undefined {
  return value === undefined ? undefined : duration(name, value, bounds)
}

/** Throws InvalidArgumentError on the first bad option. */
export function resolveOptions(options: CacheOptions): Settings {
  if (!options || typeof options !== 'object')
    throw new InvalidArgumentError('createCache needs an options object')
  assertRedisClient(options.redis)
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
          leaseMs: duration('distributedSingleFlight.leaseMs', leaseOptions?.leaseMs ?? 5000, {
            max: YEAR_MS,
          }),
          pollIntervalMs: duration(
            'distributedSingleFlight.pollIntervalMs',
            leaseOptions?.pollIntervalMs ?? 25,
          ),
        }
  const l1 = options.l1
    ? {
        maxEntries: assertPositive('l1.maxEntries', options.l1.maxEntries ?? 1000, { integer: true }),
        ttlMs: duration('l1.ttlMs', options.l1.ttlMs ?? 60_000, { max: YEAR_MS }),
      }
    : undefined
  return {
    redis: options.redis,
    prefix,
    codec: options.codec ?? jsonCodec,
    ttlMs: duration('ttlMs', options.ttlMs ?? 60_000, { max: YEAR_MS }),
    graceMs: duration('graceMs', options.graceMs ?? 0, { allowZero: true, max: YEAR_MS }),
    staleWhileRevalidate: options.staleWhileRevalidate ?? true,
    jitter,
    softTimeoutMs: optionalDuration('softTimeoutMs', options.softTimeoutMs),
    hardTimeoutMs: optionalDuration('hardTimeoutMs', options.hardTimeoutMs),
    lease,
    tombstoneTtlMs: duration('tombstoneTtlMs', options.tombstoneTtlMs ?? 3_600_000, { max: YEAR_MS }),
    l1,
    publish: options.publishInvalidations ?? l1 !== undefined,
    redisTimeoutMs: duration('redisTimeoutMs', options.redisTimeoutMs ?? 1000),
  }
}

export function checkWriteOptions(options: WriteOptions): void {
  optionalDuration('ttlMs', options.ttlMs, { max: YEAR_MS })
  optionalDuration('graceMs', options.graceMs, { allowZero: true, max: YEAR_MS })
}

/** The fetcher context's setTtlMs. */
export function checkTtl(ttlMs: unknown): number {
  return duration('ttlMs', ttlMs, { max: YEAR_MS })
}

export function checkGetOrSetOptions(options: GetOrSetOptions): void {
  checkWriteOptions(options)
  optionalDuration('softTimeoutMs', options.softTimeoutMs)
  optionalDuration('hardTimeoutMs', options.hardTimeoutMs)
}
