import {
  assertDuration,
  assertPositive,
  assertRedisClient,
  createEmitter,
  createTracing,
  InvalidArgumentError,
  jsonCodec,
  randomId,
  redisCall,
} from '@x/redis-core'
import { assertChannel } from './channel-name.js'
import { PubSubClosedError } from './errors.js'
import { createDecoder, encodeMessage } from './message-codec.js'
import { type ConsumerContext, startConsumer } from './stream-consumer.js'
import { DATA_FIELD, type Entry, fieldValue } from './stream-entries.js'
import type { DeadLetter, Stream, StreamConsumer, StreamEvents, StreamOptions } from './stream-types.js'

/**
 * A durable channel on a Redis Stream with a consumer group: messages survive restarts and
 * consumers' crashes, each is handled by one consumer of the group and acknowledged after its
 * handler succeeds. At-least-once: a consumer that dies after handling but before its XACK lands
 * gets the message handled again elsewhere, so handlers must be idempotent.
 */
export function createStream<T = unknown>(options: StreamOptions<T>): Stream<T> {
  const { redis, name } = options
  assertRedisClient(redis, 'options.redis')
  assertChannel('name', name)
  if (name.includes('{') || name.includes('}')) {
    throw new InvalidArgumentError('name must not contain "{" or "}" (the name is the hash tag)')
  }
  const prefix = assertChannel('prefix', options.prefix ?? 'stream')
  const claimIdleMs = assertDuration('claimIdleMs', options.claimIdleMs ?? 30_000)
  const startFrom = options.startFrom ?? 'beginning'
  if (startFrom !== 'beginning' && startFrom !== 'end') {
    throw new InvalidArgumentError(`startFrom must be 'beginning' or 'end', got ${String(startFrom)}`)
  }
  const key = `${prefix}:{${name}}`
  const deadLetterKey = `${key}:dead`
  const group = assertChannel('group', options.group ?? 'default')
  const redisTimeoutMs = assertDuration('redisTimeoutMs', options.redisTimeoutMs ?? 1000)
  const maxLen = assertPositive('maxLen', options.maxLen ?? 10_000, { integer: true })
  const trim = options.exactTrim ? '=' : '~'
  // Nobody listening to `error`: core's default, one redacted console.error line per operation and code every 10 s.
  const events = createEmitter<StreamEvents>({ name: '@x/pubsub' })
  const call = <R>(promise: Promise<R>, what: string) => redisCall(promise, redisTimeoutMs, what)
  const tracing = createTracing('pubsub')
  const tracePublish = tracing.operation('streamPublish')

  let groupReady: Promise<void> | undefined
  const createGroup = async () => {
    try {
      const start = startFrom === 'beginning' ? '0' : '$'
      await call(redis.xgroup('CREATE', key, group, start, 'MKSTREAM'), 'XGROUP CREATE')
    } catch (error) {
      if (!String((error as Error)?.message).includes('BUSYGROUP')) throw error
    }
  }
  const context: ConsumerContext = {
    redis,
    key,
    deadLetterKey,
    group,
    consumer: assertChannel('consumer', options.consumer ?? randomId(10)),
    maxLen,
    maxDeliveries: assertPositive('maxDeliveries', options.maxDeliveries ?? 5, { integer: true }),
    claimIdleMs,
    claimIntervalMs: assertDuration(
      'claimIntervalMs',
      options.claimIntervalMs ?? Math.min(claimIdleMs, 5000),
    ),
    blockMs: assertDuration('blockMs', options.blockMs ?? 1000),
    batchSize: assertPositive('batchSize', options.batchSize ?? 16, { integer: true }),
    redisTimeoutMs,
    decoder: createDecoder(options.codec ?? jsonCodec, options.schema),
    traceConsume: tracing.operation('consume'),
    ensureGroup() {
      groupReady ??= createGroup().catch((error: unknown) => {
        groupReady = undefined
        throw error
      })
      return groupReady
    },
    groupLost() {
      groupReady = undefined
    },
    report(operation, error, id) {
      events.emit('error', { operation, error, key, ...(id === undefined ? {} : { id }) })
    },
    deadLettered(id, reason, deliveries) {
      if (events.has('deadLettered')) events.emit('deadLettered', { key, id, reason, deliveries })
    },
  }
  const consumers = new Set<StreamConsumer>()
  let closed = false
  let closing: Promise<void> | undefined

  const stream: Stream<T> = {
    key,
    deadLetterKey,
    async publish(message) {
      if (closed) throw new PubSubClosedError('this stream is closed')
      const payload = await encodeMessage(context.decoder, message)
      const add = () => call(redis.xadd(key, 'MAXLEN', trim, maxLen, '*', DATA_FIELD, payload), 'XADD')
      if (!tracePublish.active) return String(await add())
      const trace: { stream: string; roundTrips: number; outcome?: 'published'; id?: string } = {
        stream: key,
        roundTrips: 1,
      }
      return tracePublish.trace(trace, async () => {
        trace.id = String(await add())
        trace.outcome = 'published'
        return trace.id
      })
    },
    consume(handler) {
      if (closed) throw new PubSubClosedError('this stream is closed')
      if (typeof handler !== 'function') throw new InvalidArgumentError('handler must be a function')
      const consumer = startConsumer(context, handler, () => consumers.delete(consumer))
      consumers.add(consumer)
      return consumer
    },
    async deadLetters({ count = 100 } = {}) {
      assertPositive('count', count, { integer: true })
      const entries = (await call(redis.xrange(deadLetterKey, '-', '+', 'COUNT', count), 'XRANGE')) as Entry[]
      return entries.map(([id, fields]) => ({
        id,
        originalId: fieldValue(fields, 'x-id') ?? '',
        deliveries: Number(fieldValue(fields, 'x-deliveries') ?? 0),
        reason: (fieldValue(fields, 'x-reason') ?? 'max-deliveries') as DeadLetter['reason'],
        error: fieldValue(fields, 'x-error'),
        raw: fieldValue(fields, DATA_FIELD),
      }))
    },
    on: (event, listener) => events.on(event, listener),
    close() {
      closed = true
      closing ??= Promise.all([...consumers].map((consumer) => consumer.stop())).then(() => {})
      return closing
    },
    [Symbol.asyncDispose]() {
      return stream.close()
    },
  }
  return stream
}
