export { type BackoffOptions, backoffDelay } from './backoff.js'
export { callSafely } from './call-safely.js'
export { type CloseOnSignalsOptions, type CloseRedisOptions, closeOnSignals, closeRedis } from './close.js'
export {
  groupBySlot,
  isCluster,
  masters,
  type ScanOptions,
  scanKeys,
  slotOf,
  unlinkByPattern,
} from './cluster.js'
export { type Codec, jsonCodec } from './codec.js'
export {
  type HostAndPort,
  type RedisConnectionOptions,
  type ResolvedRedisConfig,
  resolveRedisConfig,
} from './config.js'
export {
  backoff,
  type CreateClusterOptions,
  type CreateRedisOptions,
  type CreateServerOptions,
  createRedis,
  type RedisClient,
} from './create-redis.js'
export { createDeadlineQueue, type DeadlineQueue, type TimedCall } from './deadline-queue.js'
export {
  defineScript,
  isNoScript,
  type Script,
  type ScriptArg,
  type ScriptArgsParam,
  type ScriptCall,
  type ScriptDefinition,
  type ScriptSpec,
  type ScriptTypes,
} from './define-script.js'
export { duplicateClient } from './duplicate.js'
export {
  DecodeError,
  type DefinedError,
  type DefinedErrorArgs,
  type DefinedErrorInstance,
  defineError,
  EncodeError,
  InvalidArgumentError,
  RedisUnavailableError,
  TimeoutError,
  XError,
  type XErrorCode,
  type XErrorOptions,
} from './errors.js'
export {
  createEmitter,
  type Emitter,
  type EmitterOptions,
  type ErrorEvent,
} from './events.js'
export { randomId } from './ids.js'
export { type KeyPart, type Keyspace, type KeyspaceOptions, keyspace } from './keyspace.js'
export { waitForReady } from './ready.js'
export { redact } from './redact.js'
export { createRedisCaller, type RedisCaller, type RedisCallerOptions } from './redis-caller.js'
export { isRedisUnavailable, toRedisError } from './redis-error.js'
export {
  createServerClock,
  monotonicMicros,
  type ServerClock,
  type ServerClockOptions,
} from './server-clock.js'
export { type HelperCallOptions, ping, serverTime } from './server-time.js'
export { type SharedRedisOptions, sharedRedis } from './shared-redis.js'
export {
  createSubscriber,
  type Subscriber,
  type SubscriberEvents,
  type SubscriberListener,
  type SubscriberOptions,
  type SubscriberUnsubscribe,
  type SubscriptionKind,
} from './subscriber.js'
export { redisCall, withTimeout } from './timeout.js'
export {
  createTracing,
  type OperationTracer,
  type Tracing,
  tracingChannelName,
} from './tracing.js'
export {
  assertDuration,
  assertName,
  assertPositive,
  assertRedisClient,
  type DurationBounds,
  MAX_DURATION_MS,
} from './validate.js'
export { type WriteCoalescer, writeCoalescer } from './write-coalescer.js'
