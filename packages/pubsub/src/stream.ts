import { hostname } from 'node:os'
import {
  assertPositive,
  type Codec,
  InvalidArgumentError,
  isCluster,
  jsonCodec,
  type RedisClient,
  redisCall,
  toRedisError,
  waitForReady,
} from '@x/redis-core'
import type { Cluster, Redis } from 'ioredis'
import { assertChannel } from './channel-name.js'
import { deadLetterScript } from './dead-letter.lua.js'
import { PubSubClosedError, SchemaError } from './errors.js'
import { createDecoder, encodeMessage } from './message-codec.js'
import { reclaimScript } from './reclaim.lua.js'
import { formatIssues, type StandardSchemaV1 } from './standard-schema.js'

/** The field of a stream entry that holds the encoded message. */
const DATA_FIELD = 'd'

export interface StreamOptions<T> {
  /** A `Redis` or a `Cluster`. */
  redis: RedisClient
  /**
   * Key prefix. The stream is `<prefix>:{<name>}` and its dead letters `<prefix>:{<name>}:dead`:
   * one hash tag, so moving a message to the dead letters is one atomic script on a Cluster too.
   * @default 'stream'
   */
  prefix?: string
  /** @default jsonCodec */
  codec?: Codec<unknown>
  /** Validates published messages (throws) and consumed ones (invalid ones go to the dead letters). */
  schema?: StandardSchemaV1<unknown, T>
  /**
   * Retention: XADD trims the stream to about this many entries.
   * @default 10000
   */
  maxLen?: number
  /**
   * Trim exactly (`MAXLEN =`) instead of approximately (`MAXLEN ~`, which Redis does in whole
   * nodes: cheaper, but the stream may hold up to ~100 entries more than maxLen).
   * @default false
   */
  exactTrim?: boolean
  /**
   * Consumer group. Every group gets every message; consumers of one group share them.
   * @default 'default'
   */
  group?: string
  /**
   * This consumer's name inside the group. Must be unique per live process.
   * @default `<hostname>-<pid>-<random>`
   */
  consumer?: string
  /**
   * A message whose handler failed this many times goes to the dead-letter stream.
   * @default 5
   */
  maxDeliveries?: number
  /**
   * A message pending (delivered, not acknowledged) for this long is taken over by another
   * consumer: its consumer crashed, hung, or its handler failed. Should exceed your slowest handler.
   * @default 30000
   */
  claimIdleMs?: number
  /**
   * How often a consumer looks for such messages.
   * @default min(claimIdleMs, 5000)
   */
  claimIntervalMs?: number
  /**
   * Longest XREADGROUP BLOCK; bounds how long stopping a consumer can take.
   * @default 1000
   */
  blockMs?: number
  /**
   * Messages read per XREADGROUP.
   * @default 16
   */
  batchSize?: number
  /**
   * Where a new group starts: `'beginning'` (every message still retained) or `'end'` (only new ones).
   * @default 'beginning'
   */
  startFrom?: 'beginning' | 'end'
  /**
   * Longest wait for one Redis command (not counting the blocking read).
   * @default 2000
   */
  timeoutMs?: number
  /**
   * Errors that cannot be thrown at a caller: failed handlers, failed reads, failed acks.
   * @default console.error
   */
  onError?: (error: unknown, context: StreamErrorContext) => void
}

export interface StreamErrorContext {
  source: 'handler' | 'read' | 'ack' | 'reclaim' | 'dead-letter' | 'invalid'
  id?: string
}

export interface StreamMessageInfo {
  /** The stream entry id. */
  id: string
  /** 1 on the first delivery; more when this message was reclaimed after a failure or a crash. */
  deliveries: number
}

export type StreamHandler<T> = (message: T, info: StreamMessageInfo) => void | Promise<void>

export interface DeadLetter {
  /** Id in the dead-letter stream. */
  id: string
  /** Id the message had in the stream. */
  originalId: string
  deliveries: number
  reason: 'max-deliveries' | 'invalid'
  error: string | undefined
  /** The encoded payload as stored. */
  raw: string | undefined
}

export interface StreamConsumer {
  /** Stops reading, lets the message being handled finish (and be acknowledged). Idempotent. */
  stop(): Promise<void>
  readonly running: boolean
  /** Messages handled successfully, failed, and moved to the dead letters by this consumer. */
  readonly stats: { handled: number; failed: number; deadLettered: number }
}

export interface Stream<T> {
  readonly key: string
  readonly deadLetterKey: string
  /** XADD with MAXLEN; resolves to the entry id. One round trip. */
  publish(message: T): Promise<string>
  /** Starts a consumer: at-least-once delivery, acknowledged when the handler resolves. */
  consume(handler: StreamHandler<T>): StreamConsumer
  /** Reads dead letters, oldest first. */
  deadLetters(options?: { count?: number }): Promise<DeadLetter[]>
  /** Stops every consumer started here. */
  close(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

type Entry = [id: string, fields: string[]]

/**
 * A durable channel on a Redis Stream with a consumer group: messages survive restarts and
 * consumers' crashes, each is handled by one consumer of the group and acknowledged after its
 * handler succeeds. At-least-once: a consumer that dies after handling but before its XACK lands
 * gets the message handled again elsewhere, so handlers must be idempotent.
 */
export function createStream<T = unknown>(name: string, options: StreamOptions<T>): Stream<T> {
  const { redis } = options
  if (redis === null || typeof redis !== 'object' || typeof redis.xadd !== 'function') {
    throw new InvalidArgumentError('createStream: options.redis must be an ioredis Redis or Cluster client')
  }
  assertChannel('stream name', name)
  if (name.includes('{') || name.includes('}')) {
    throw new InvalidArgumentError('stream name must not contain "{" or "}" (the name is the hash tag)')
  }
  const prefix = options.prefix ?? 'stream'
  assertChannel('prefix', prefix)
  const group = assertChannel('group', options.group ?? 'default')
  const consumerName = assertChannel(
    'consumer',
    options.consumer ?? `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
  )
  const maxLen = assertPositive('maxLen', options.maxLen ?? 10_000, { integer: true })
  const maxDeliveries = assertPositive('maxDeliveries', options.maxDeliveries ?? 5, { integer: true })
  const claimIdleMs = assertPositive('claimIdleMs', options.claimIdleMs ?? 30_000, { integer: true })
  const claimIntervalMs = assertPositive(
    'claimIntervalMs',
    options.claimIntervalMs ?? Math.min(claimIdleMs, 5000),
  )
  const blockMs = assertPositive('blockMs', options.blockMs ?? 1000, { integer: true })
  const batchSize = assertPositive('batchSize', options.batchSize ?? 16, { integer: true })
  const timeoutMs = assertPositive('timeoutMs', options.timeoutMs ?? 2000)
  const startFrom = options.startFrom ?? 'beginning'
  if (startFrom !== 'beginning' && startFrom !== 'end') {
    throw new InvalidArgumentError(`startFrom must be 'beginning' or 'end', got ${String(startFrom)}`)
  }
  const trim = options.exactTrim ? '=' : '~'
  const decoder = createDecoder(options.codec ?? jsonCodec, options.schema)
  const onError =
    options.onError ??
    ((error, context) => console.error(`[@x/pubsub] stream ${context.source} error`, error))
  const key = `${prefix}:{${name}}`
  const deadLetterKey = `${key}:dead`
  const keys = [key, deadLetterKey]
  const consumers = new Set<StreamConsumer>()
  let closed = false

  const report = (error: unknown, context: StreamErrorContext) => {
    try {
      onError(error, context)
    } catch (listenerError) {
      console.error('[@x/pubsub] onError threw', listenerError)
    }
  }

  const call = <R>(promise: Promise<R>, what: string) => redisCall(promise, timeoutMs, what)

  const ensureGroup = async () => {
    try {
      await call(
        redis.xgroup('CREATE', key, group, startFrom === 'beginning' ? '0' : '$', 'MKSTREAM'),
        'XGROUP CREATE',
      )
    } catch (error) {
      if (!String((error as Error)?.message).includes('BUSYGROUP')) throw error
    }
  }

  const decode = async (
    fields: string[],
  ): Promise<{ value: T } | { error: unknown; raw: string | undefined }> => {
    const raw = fieldValue(fields, DATA_FIELD)
    if (raw === undefined)
      return { error: new InvalidArgumentError(`entry has no "${DATA_FIELD}" field`), raw }
    let value: unknown
    try {
      value = decoder.codec.decode(raw)
    } catch (error) {
      return { error, raw }
    }
    if (decoder.schema) {
      const result = await decoder.schema['~standard'].validate(value)
      if (result.issues) {
        return {
          error: new SchemaError(`message does not match the schema: ${formatIssues(result.issues)}`, {
            issues: result.issues,
          }),
          raw,
        }
      }
      value = result.value
    }
    return { value: value as T }
  }

  const stream: Stream<T> = {
    key,
    deadLetterKey,
    async publish(message) {
      if (closed) throw new PubSubClosedError('this stream is closed')
      const payload = await encodeMessage(decoder, message)
      const id = await call(redis.xadd(key, 'MAXLEN', trim, maxLen, '*', DATA_FIELD, payload), 'XADD')
      return String(id)
    },
    consume(handler) {
      if (closed) throw new PubSubClosedError('this stream is closed')
      if (typeof handler !== 'function') throw new InvalidArgumentError('handler must be a function')
      const stats = { handled: 0, failed: 0, deadLettered: 0 }
      // Blocking reads get their own connection so they never delay publishes and acks.
      const reader = duplicateForBlocking(redis, blockMs + timeoutMs)
      reader.on('error', () => {
        // Read failures are reported by the loop; connection noise would only repeat them.
      })
      let stopped = false
      let cursor = '0-0'
      let nextClaimAt = 0
      let wake: (() => void) | undefined

      const deadLetter = async (id: string, deliveries: number, reason: string, error: unknown) => {
        const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
        try {
          const moved = await deadLetterScript.run(redis, keys, [
            group,
            id,
            deliveries,
            reason,
            text.slice(0, 1000),
            maxLen,
          ])
          if (Number(moved) === 1) stats.deadLettered++
        } catch (scriptError) {
          report(scriptError, { source: 'dead-letter', id })
        }
      }

      const handle = async ([id, fields]: Entry, deliveries: number) => {
        const decoded = await decode(fields)
        if ('error' in decoded) {
          report(decoded.error, { source: 'invalid', id })
          await deadLetter(id, deliveries, 'invalid', decoded.error)
          return
        }
        try {
          await handler(decoded.value, { id, deliveries })
        } catch (error) {
          stats.failed++
          report(error, { source: 'handler', id })
          // Left pending, it is redelivered after claimIdleMs; on its last allowed delivery it goes to the dead letters now.
          if (deliveries >= maxDeliveries) await deadLetter(id, deliveries, 'max-deliveries', error)
          return
        }
        try {
          await call(redis.xack(key, group, id), 'XACK')
          stats.handled++
        } catch (error) {
          // Not acknowledged: it will be reclaimed and handled again (at-least-once).
          report(error, { source: 'ack', id })
        }
      }

      const reclaim = async () => {
        const [next, entries, dead] = await call(
          reclaimScript.run(redis, keys, [
            group,
            consumerName,
            claimIdleMs,
            cursor,
            batchSize,
            maxDeliveries,
            maxLen,
          ]),
          'XAUTOCLAIM',
        )
        cursor = String(next)
        stats.deadLettered += Number(dead)
        for (const [id, fields, deliveries] of entries) {
          if (stopped) return
          await handle([String(id), fields.map(String)], Number(deliveries))
        }
      }

      const pause = (ms: number) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, ms)
          timer.unref?.()
          wake = () => {
            clearTimeout(timer)
            resolve()
          }
        })

      const loop = async () => {
        let failures = 0
        while (!stopped) {
          try {
            if (reader.status !== 'ready') await waitForReady(reader, timeoutMs)
            await ensureGroupOnce()
            if (Date.now() >= nextClaimAt) {
              nextClaimAt = Date.now() + claimIntervalMs
              await reclaim()
            }
            if (stopped) break
            const reply = await (reader as Redis).xreadgroup(
              'GROUP',
              group,
              consumerName,
              'COUNT',
              batchSize,
              'BLOCK',
              blockMs,
              'STREAMS',
              key,
              '>',
            )
            failures = 0
            for (const entry of entriesOf(reply)) {
              // Entries read but not yet handled when stop() is called stay pending and are reclaimed.
              if (stopped) break
              await handle(entry, 1)
            }
          } catch (error) {
            if (stopped) break
            if (String((error as Error)?.message).includes('NOGROUP')) groupReady = undefined
            failures++
            report(toRedisError(error), { source: 'read' })
            await pause(Math.min(2000, 50 * 2 ** Math.min(failures, 6)))
          }
        }
      }

      let groupReady: Promise<void> | undefined
      const ensureGroupOnce = () => {
        groupReady ??= ensureGroup().catch((error: unknown) => {
          groupReady = undefined
          throw error
        })
        return groupReady
      }

      const done = loop()
      let stopping: Promise<void> | undefined
      const consumer: StreamConsumer = {
        get running() {
          return !stopped
        },
        stats,
        stop() {
          stopping ??= (async () => {
            stopped = true
            wake?.()
            // Dropping the connection ends a pending BLOCK at once; an entry it delivered stays
            // pending and is reclaimed later, which at-least-once allows.
            reader.disconnect()
            await done
            consumers.delete(consumer)
          })()
          return stopping
        },
      }
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
    async close() {
      closed = true
      await Promise.all([...consumers].map((consumer) => consumer.stop()))
    },
    [Symbol.asyncDispose]() {
      return stream.close()
    },
  }
  return stream
}

function fieldValue(fields: readonly string[], field: string): string | undefined {
  for (let index = 0; index + 1 < fields.length; index += 2) {
    if (fields[index] === field) return String(fields[index + 1])
  }
  return undefined
}

/** XREADGROUP replies `[[key, entries]]` (RESP2 / legacy mapping) or `{ key: entries }` (RESP3 maps). */
function entriesOf(reply: unknown): Entry[] {
  if (reply === null || reply === undefined) return []
  const streams: unknown[] = Array.isArray(reply)
    ? reply.map((item) => (item as [string, unknown])[1])
    : reply instanceof Map
      ? [...reply.values()]
      : Object.values(reply as object)
  const entries: Entry[] = []
  for (const list of streams) {
    for (const item of list as Array<[string, string[] | null]>) {
      // A null field list is an entry trimmed away while pending; nothing left to handle.
      if (item?.[1]) entries.push([String(item[0]), item[1].map(String)])
    }
  }
  return entries
}

function duplicateForBlocking(redis: RedisClient, commandTimeout: number): RedisClient {
  if (isCluster(redis)) {
    const cluster = redis as Cluster
    return cluster.duplicate([], { redisOptions: { ...cluster.options.redisOptions, commandTimeout } })
  }
  return (redis as Redis).duplicate({ commandTimeout, lazyConnect: false })
}
