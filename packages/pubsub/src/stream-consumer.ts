import {
  backoffDelay,
  createRedisCaller,
  duplicateClient,
  isCluster,
  type OperationTracer,
  type RedisClient,
  toRedisError,
  waitForReady,
} from '@x/redis-core'
import type { Cluster, Redis } from 'ioredis'
import { deadLetterScript } from './dead-letter.lua.js'
import type { MessageDecoder } from './message-codec.js'
import { reclaimScript } from './reclaim.lua.js'
import { decodeEntry, type Entry, entriesOf } from './stream-entries.js'
import type {
  DeadLetter,
  StreamConsumer,
  StreamConsumerStats,
  StreamHandler,
  StreamOperation,
} from './stream-types.js'

/** The context of `x:pubsub:consume`, one per handled entry: names and counts, never the message. */
export interface ConsumeTrace {
  stream: string
  group: string
  id: string
  deliveries: number
  roundTrips: number
  /** `reclaimed`: handled on a later delivery; `failed`: left pending for a retry. */
  outcome?: 'delivered' | 'reclaimed' | 'failed' | 'invalid' | 'dead-lettered'
}

/** What a consumer needs from its stream: resolved options and the stream's reporting. */
export interface ConsumerContext {
  redis: RedisClient
  key: string
  deadLetterKey: string
  group: string
  consumer: string
  maxLen: number
  maxDeliveries: number
  claimIdleMs: number
  claimIntervalMs: number
  blockMs: number
  batchSize: number
  redisTimeoutMs: number
  decoder: MessageDecoder
  traceConsume: OperationTracer
  /** XGROUP CREATE … MKSTREAM once, shared by the consumers of the stream; BUSYGROUP is success. */
  ensureGroup(): Promise<void>
  /** The next ensureGroup() creates the group again. */
  groupLost(): void
  report(operation: StreamOperation, error: unknown, id?: string): void
  deadLettered(id: string, reason: DeadLetter['reason'], deliveries: number): void
}

/**
 * One consumer's loop: reclaim stuck messages every `claimIntervalMs` (dead-lettering those
 * delivered too often), then XREADGROUP new ones on its own blocking connection, handle each and
 * acknowledge it when its handler resolves. A failed handler leaves the message pending, so it is
 * reclaimed after `claimIdleMs`; its last allowed delivery dead-letters it at once.
 */
export function startConsumer<T>(
  context: ConsumerContext,
  handler: StreamHandler<T>,
  onStopped: () => void,
): StreamConsumer {
  const { redis, key, group, redisTimeoutMs } = context
  const keys: [string, string] = [key, context.deadLetterKey]
  // Scripts and XACK through core's call path: the deadline, NOSCRIPT answered once, errors mapped.
  const caller = createRedisCaller(redis, { timeoutMs: redisTimeoutMs })
  const stats: StreamConsumerStats = { handled: 0, failed: 0, deadLettered: 0, reclaimed: 0 }
  // Blocking reads get their own connection so they never delay publishes and acks.
  const commandTimeout = context.blockMs + redisTimeoutMs
  const reader = isCluster(redis)
    ? duplicateClient(redis, { redisOptions: { ...(redis as Cluster).options.redisOptions, commandTimeout } })
    : duplicateClient(redis, { commandTimeout, lazyConnect: false })
  reader.on('error', () => {
    // Read failures are reported by the loop; connection noise would only repeat them.
  })
  let stopped = false
  let cursor = '0-0'
  let nextClaimAt = 0
  let wake: (() => void) | undefined

  const deadLetter = async (id: string, deliveries: number, reason: DeadLetter['reason'], error: unknown) => {
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
    try {
      const moved = await caller.script(deadLetterScript, keys, [
        group,
        id,
        deliveries,
        reason,
        text.slice(0, 1000),
        context.maxLen,
      ])
      if (Number(moved) !== 1) return
      stats.deadLettered++
      context.deadLettered(id, reason, deliveries)
    } catch (scriptError) {
      context.report('dead-letter', scriptError, id)
    }
  }

  /** Handles one entry; answers what happened to it (the `outcome` of `x:pubsub:consume`). */
  const handleEntry = async ([id, fields]: Entry, deliveries: number): Promise<ConsumeTrace['outcome']> => {
    const decoded = await decodeEntry<T>(context.decoder, fields)
    if ('error' in decoded) {
      context.report('invalid', decoded.error, id)
      await deadLetter(id, deliveries, 'invalid', decoded.error)
      return 'invalid'
    }
    try {
      await handler(decoded.value, { id, deliveries })
    } catch (error) {
      stats.failed++
      context.report('handler', error, id)
      // Left pending, it is redelivered after claimIdleMs; on its last allowed delivery it goes to the dead letters now.
      if (deliveries < context.maxDeliveries) return 'failed'
      await deadLetter(id, deliveries, 'max-deliveries', error)
      return 'dead-lettered'
    }
    try {
      await caller.run(() => redis.xack(key, group, id), 'XACK')
      stats.handled++
      return deliveries > 1 ? 'reclaimed' : 'delivered'
    } catch (error) {
      // Not acknowledged: it will be reclaimed and handled again (at-least-once).
      context.report('ack', error, id)
      return 'failed'
    }
  }
  const handle = async (entry: Entry, deliveries: number): Promise<void> => {
    if (!context.traceConsume.active) {
      await handleEntry(entry, deliveries)
      return
    }
    const trace: ConsumeTrace = { stream: key, group, id: entry[0], deliveries, roundTrips: 1 }
    await context.traceConsume.trace(trace, async () => {
      trace.outcome = await handleEntry(entry, deliveries)
    })
  }

  const reclaim = async () => {
    const [next, entries, dead] = await caller.script(reclaimScript, keys, [
      group,
      context.consumer,
      context.claimIdleMs,
      cursor,
      context.batchSize,
      context.maxDeliveries,
      context.maxLen,
    ])
    cursor = String(next)
    for (const [id, deliveries] of dead) {
      stats.deadLettered++
      context.deadLettered(String(id), 'max-deliveries', Number(deliveries))
    }
    for (const [id, fields, deliveries] of entries) {
      if (stopped) return
      stats.reclaimed++
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
        if (reader.status !== 'ready') await waitForReady(reader, redisTimeoutMs)
        await context.ensureGroup()
        if (performance.now() >= nextClaimAt) {
          nextClaimAt = performance.now() + context.claimIntervalMs
          await reclaim()
        }
        if (stopped) break
        const reply = await (reader as Redis).xreadgroup(
          'GROUP',
          group,
          context.consumer,
          'COUNT',
          context.batchSize,
          'BLOCK',
          context.blockMs,
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
        // The stream or its group was deleted: create the group again on the next round.
        if (String((error as Error)?.message).includes('NOGROUP')) context.groupLost()
        context.report('read', toRedisError(error), undefined)
        await pause(backoffDelay(failures++, { initialMs: 50, maxMs: 2000, jitter: 'equal' }))
      }
    }
  }

  const done = loop()
  let stopping: Promise<void> | undefined
  return {
    get running() {
      return !stopped
    },
    get stats() {
      return { ...stats }
    },
    stop() {
      stopping ??= (async () => {
        stopped = true
        wake?.()
        // Dropping the connection ends a pending BLOCK at once; an entry it delivered stays
        // pending and is reclaimed later, which at-least-once allows.
        reader.disconnect()
        await done
        onStopped()
      })()
      return stopping
    },
  }
}
