import {
  assertName,
  assertPositive,
  type Codec,
  InvalidArgumentError,
  isCluster,
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
  ttl: number
  grace: number
  staleWhileRevalidate: boolean
  jitter: number
  /** Default fetcher timeouts. */
  soft: number | undefined
  hard: number | undefined
  lease: { ttl: number; pollInterval: number } | undefined
  tombstoneTtl: number
  l1: { maxEntries: number; ttl: number } | undefined
  publish: boolean
  redisTimeout: number
  /**
   * The client's own commandTimeout already bounds every call within our timeout (true for
   * createRedis clients with the defaults), so the hot-path GET needs no deadline of ours.
   */
  clientTimesOut: boolean
  onError: ((error: unknown, operation: string) => void) | undefined
}

/** Throws InvalidArgumentError on the first bad option. */
export function resolveOptions(options: CacheOptions): Settings {
  if (!options || typeof options !== 'object')
    throw new InvalidArgumentError('createCache needs an options object')
  if (!options.redis) throw new InvalidArgumentError('redis is required')
  const prefix = assertName('prefix', options.prefix, 256)
  if (BRACES_OR_GLOB.test(prefix))
    throw new InvalidArgumentError('prefix must not contain braces or glob characters')
  const ttl = assertPositive('ttl', options.ttl ?? 60_000, { integer: true })
  const grace = assertPositive('grace', options.grace ?? 0, { allowZero: true, integer: true })
  const jitter = assertPositive('jitter', options.jitter ?? 0, { allowZero: true })
  if (jitter >= 1) throw new InvalidArgumentError(`jitter must be < 1, got ${jitter}`)
  const clientTimeout = commandTimeoutOf(options.redis)
  const redisTimeout = assertPositive('timeouts.redis', options.timeouts?.redis ?? clientTimeout ?? 1000, {
    integer: true,
  })
  const soft = optionalPositive('timeouts.soft', options.timeouts?.soft)
  const hard = optionalPositive('timeouts.hard', options.timeouts?.hard)
  const tombstoneTtl = assertPositive('tombstoneTtl', options.tombstoneTtl ?? 3_600_000, { integer: true })
  const distributed = options.distributedSingleFlight
  const leaseOptions = typeof distributed === 'object' ? distributed : undefined
  const lease =
    distributed === undefined || distributed === false
      ? undefined
      : {
          ttl: assertPositive('distributedSingleFlight.leaseTtl', leaseOptions?.leaseTtl ?? 5000, {
            integer: true,
          }),
          pollInterval: assertPositive(
            'distributedSingleFlight.pollInterval',
            leaseOptions?.pollInterval ?? 25,
            {
              integer: true,
            },
          ),
        }
  const l1 = options.l1
    ? {
        maxEntries: assertPositive('l1.maxEntries', options.l1.maxEntries ?? 1000, { integer: true }),
        ttl: assertPositive('l1.ttl', options.l1.ttl ?? 60_000, { integer: true }),
      }
    : undefined
  return {
    redis: options.redis,
    prefix,
    codec: options.codec ?? jsonCodec,
    ttl,
    grace,
    staleWhileRevalidate: options.staleWhileRevalidate ?? true,
    jitter,
    soft,
    hard,
    lease,
    tombstoneTtl,
    l1,
    publish: options.publishInvalidations ?? l1 !== undefined,
    redisTimeout,
    clientTimesOut: clientTimeout !== undefined && clientTimeout <= redisTimeout,
    onError: options.onError,
  }
}

/** The per-command timeout ioredis applies itself, if any (Redis or Cluster options). */
function commandTimeoutOf(redis: RedisClient): number | undefined {
  const options = redis.options as { commandTimeout?: number; redisOptions?: { commandTimeout?: number } }
  const timeout = isCluster(redis) ? options.redisOptions?.commandTimeout : options.commandTimeout
  return typeof timeout === 'number' && timeout > 0 ? timeout : undefined
}

function optionalPositive(name: string, value: number | undefined): number | undefined {
  return value === undefined ? undefined : assertPositive(name, value, { integer: true })
}

export function checkWriteOptions(options: WriteOptions): void {
  if (options.ttl !== undefined) assertPositive('ttl', options.ttl, { integer: true })
  if (options.grace !== undefined) assertPositive('grace', options.grace, { allowZero: true, integer: true })
}

export function checkGetOrSetOptions(options: GetOrSetOptions): void {
  checkWriteOptions(options)
  if (options.timeout) {
    optionalPositive('timeout.soft', options.timeout.soft)
    optionalPositive('timeout.hard', options.timeout.hard)
  }
}
