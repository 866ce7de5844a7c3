// One concept, the subscriber connection, in one file (~390 lines): the ref-counted subscription
// table, the connection it lives on and the reconnect handling are one state machine; split, each
// part would reach into the others' state.
import type { Cluster, Redis } from 'ioredis'
import { closeRedis } from './close.js'
import { isCluster } from './cluster.js'
import { type ShardFailure, watchClusterSubscriber } from './cluster-subscriber-watch.js'
import type { RedisClient } from './create-redis.js'
import { duplicateClient } from './duplicate.js'
import { InvalidArgumentError, RedisUnavailableError } from './errors.js'
import { createEmitter } from './events.js'
import { waitForReady } from './ready.js'
import { toRedisError } from './redis-error.js'
import { redisCall } from './timeout.js'
import { assertDuration, assertRedisClient } from './validate.js'

/** `channel` (SUBSCRIBE), `pattern` (PSUBSCRIBE) or `shard` (SSUBSCRIBE). */
export type SubscriptionKind = 'channel' | 'pattern' | 'shard'

/**
 * Receives one raw message: a string, or a Buffer when the subscriber was created with
 * `binary: true`. `pattern` is set for pattern subscriptions. Called synchronously from the
 * connection's event; a throw is reported as an `error` event (operation `deliver`), never escapes.
 */
export type SubscriberListener<M extends string | Buffer = string> = (
  message: M,
  channel: string,
  pattern: string | undefined,
) => void

/** Removes one subscription; resolves once the server acknowledged (when it was the last one). Never rejects. */
export type SubscriberUnsubscribe = () => Promise<void>

export interface SubscriberOptions {
  /**
   * On a Cluster, open one subscriber connection per master for SSUBSCRIBE (ioredis routes each
   * sharded channel to the master that owns its slot). Needed for `ssubscribe` on a Cluster; on a
   * single server SSUBSCRIBE works either way.
   * @default false
   */
  sharded?: boolean
  /**
   * Hand payloads to listeners as Buffers (ioredis's `*Buffer` events), untouched, for binary
   * codecs. Costs one channel-name `toString()` per message.
   * @default false
   */
  binary?: boolean
  /**
   * Longest wait for the server to acknowledge a SUBSCRIBE or UNSUBSCRIBE. Ends in `TimeoutError`.
   * @default 1000
   */
  redisTimeoutMs?: number
  /**
   * Longest wait for the subscriber connection to be ready (its first connect, or a reconnect)
   * before a subscribe gives up with `RedisUnavailableError`. A Cluster connects to every master
   * first, which takes longer than one call.
   * @default 5000
   */
  connectTimeoutMs?: number
}

export type SubscriberEvents = {
  /**
   * The connection came back (on a Cluster: ioredis switched the subscriber to another node) and
   * every subscription was restored. Messages published meanwhile were missed: resynchronise.
   */
  reconnected: { channels: number; patterns: number; shardedChannels: number }
  /** An error nobody could be thrown at; `key` is the channel or pattern when there is one. */
  error: { operation: 'unsubscribe' | 'resubscribe' | 'connection' | 'deliver'; error: unknown; key?: string }
}

/**
 * A subscriber connection shared by any number of listeners. `subscribe` resolves after the server
 * acknowledged; a name is SUBSCRIBEd once however many listeners it has and UNSUBSCRIBEd when the
 * last one leaves; the same listener added twice to one name is delivered once and must be removed
 * twice.
 */
export interface Subscriber<M extends string | Buffer = string> {
  subscribe(channel: string, listener: SubscriberListener<M>): Promise<SubscriberUnsubscribe>
  psubscribe(pattern: string, listener: SubscriberListener<M>): Promise<SubscriberUnsubscribe>
  /** Needs `sharded: true` on a Cluster. */
  ssubscribe(channel: string, listener: SubscriberListener<M>): Promise<SubscriberUnsubscribe>
  /** `reconnected` and `error`; returns a function that removes the listener. */
  on<K extends keyof SubscriberEvents>(event: K, listener: (payload: SubscriberEvents[K]) => void): () => void
  /** Distinct names subscribed (or being subscribed) now. No Redis call. */
  counts(): { channels: number; patterns: number; shardedChannels: number }
  /** The duplicated connection, opened by the first subscribe; undefined before. For health checks. */
  readonly connection: RedisClient | undefined
  /** Closes the connection (which drops every subscription at once). Idempotent; later subscribes reject. */
  close(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

interface Entry {
  readonly kind: SubscriptionKind
  readonly name: string
  /** Immutable snapshot: a message goes to the listeners registered when it arrived. */
  listeners: ReadonlyArray<SubscriberListener<never>>
  readonly counts: Map<SubscriberListener<never>, number>
  refs: number
  /** What the server has. After a failed or timed-out SUBSCRIBE we assume "subscribed" so a later sync cleans up. */
  onServer: boolean
  /** Every (UN)SUBSCRIBE of this name runs on this chain, one at a time, each comparing wanted with onServer. */
  tail: Promise<void>
  queued: number
}

const COMMANDS = {
  channel: ['subscribe', 'unsubscribe'],
  pattern: ['psubscribe', 'punsubscribe'],
  shard: ['ssubscribe', 'sunsubscribe'],
} as const

/**
 * The one subscriber primitive of the @x packages: a duplicated connection (opened on the first
 * subscribe, closed by `close()`; the client you pass is never used for subscriptions nor closed),
 * ref-counted SUBSCRIBE / PSUBSCRIBE / SSUBSCRIBE that resolve after the server acknowledged,
 * every subscription restored after a reconnect — on a Cluster also when ioredis silently moves
 * its subscriber to another node — followed by a `reconnected` event, and raw message delivery.
 *
 * ```ts fragment
 * const subscriber = createSubscriber(redis, { redisTimeoutMs: 1000 })
 * subscriber.on('reconnected', () => resync())
 * const unsubscribe = await subscriber.subscribe('invalidations', (message, channel) => { … })
 * await unsubscribe()
 * await subscriber.close()
 * ```
 */
export function createSubscriber(
  redis: RedisClient,
  options: SubscriberOptions & { binary: true },
): Subscriber<Buffer>
export function createSubscriber(
  redis: RedisClient,
  options?: SubscriberOptions & { binary?: false },
): Subscriber<string>
export function createSubscriber(redis: RedisClient, options?: SubscriberOptions): Subscriber<string | Buffer>
export function createSubscriber(
  redis: RedisClient,
  options: SubscriberOptions = {},
): Subscriber<string | Buffer> {
  assertRedisClient(redis)
  const redisTimeoutMs = assertDuration('redisTimeoutMs', options.redisTimeoutMs ?? 1000)
  const connectTimeoutMs = assertDuration('connectTimeoutMs', options.connectTimeoutMs ?? 5000)
  const sharded = options.sharded === true
  const binary = options.binary === true
  // Nobody listening to `error`: core's default, one redacted console.error line per operation and code every 10 s.
  const events = createEmitter<SubscriberEvents>({ name: '@x/redis-core' })
  const tables: Record<SubscriptionKind, Map<string, Entry>> = {
    channel: new Map(),
    pattern: new Map(),
    shard: new Map(),
  }
  let connection: RedisClient | undefined
  let closed = false
  let closing: Promise<void> | undefined

  const report = (payload: SubscriberEvents['error']) => events.emit('error', payload)

  const deliver = (entry: Entry | undefined, raw: string | Buffer, channel: string, pattern?: string) => {
    if (entry === undefined) return
    for (const listener of entry.listeners) {
      try {
        ;(listener as SubscriberListener<string | Buffer>)(raw, channel, pattern)
      } catch (error) {
        report({ operation: 'deliver', error, key: pattern ?? channel })
      }
    }
  }
  const messageEvents = binary
    ? ([
        [
          'messageBuffer',
          (channel: Buffer, raw: Buffer) => deliver(tables.channel.get(`${channel}`), raw, `${channel}`),
        ],
        [
          'pmessageBuffer',
          (pattern: Buffer, channel: Buffer, raw: Buffer) =>
            deliver(tables.pattern.get(`${pattern}`), raw, `${channel}`, `${pattern}`),
        ],
        [
          'smessageBuffer',
          (channel: Buffer, raw: Buffer) => deliver(tables.shard.get(`${channel}`), raw, `${channel}`),
        ],
      ] as const)
    : ([
        ['message', (channel: string, raw: string) => deliver(tables.channel.get(channel), raw, channel)],
        [
          'pmessage',
          (pattern: string, channel: string, raw: string) =>
            deliver(tables.pattern.get(pattern), raw, channel, pattern),
        ],
        ['smessage', (channel: string, raw: string) => deliver(tables.shard.get(channel), raw, channel)],
      ] as const)

  const apply = async (entry: Entry) => {
    const wanted = entry.refs > 0
    if (wanted === entry.onServer || closed) return
    const client = connect()
    // waitForReady shares one wait between concurrent callers: a burst adds no listeners per command.
    if (client.status !== 'ready') await waitForReady(client, connectTimeoutMs)
    const command = COMMANDS[entry.kind][wanted ? 0 : 1]
    const what = `${command.toUpperCase()} ${entry.name}`
    if (wanted) entry.onServer = true
    await redisCall(client[command](entry.name) as Promise<unknown>, redisTimeoutMs, what)
    if (!wanted) entry.onServer = false
  }
  const settle = (entry: Entry) => {
    entry.queued--
    if (
      entry.queued === 0 &&
      entry.refs === 0 &&
      !entry.onServer &&
      tables[entry.kind].get(entry.name) === entry
    )
      tables[entry.kind].delete(entry.name)
  }
  /** Brings the server in line with the table for one name, behind the syncs already queued for it. */
  const sync = (entry: Entry): Promise<void> => {
    entry.queued++
    const run = entry.tail.then(() => apply(entry))
    entry.tail = run.then(
      () => settle(entry),
      () => settle(entry),
    )
    return run
  }
  const change = (entry: Entry, listener: SubscriberListener<never>, delta: 1 | -1): boolean => {
    const count = (entry.counts.get(listener) ?? 0) + delta
    if (count < 0) return false
    entry.refs += delta
    if (count > 0) entry.counts.set(listener, count)
    else entry.counts.delete(listener)
    if (count === 0 || (delta === 1 && count === 1)) entry.listeners = [...entry.counts.keys()]
    return true
  }

  let everReady = false
  let resubscribing: Promise<void> | undefined
  let resubscribeAgain = false
  const emitReconnected = () => {
    if (!closed) events.emit('reconnected', subscriber.counts())
  }
  /** Restores every subscription on the new connection, then emits `reconnected`; coalesces bursts. */
  const resubscribe = () => {
    if (closed) return
    if (resubscribing) {
      resubscribeAgain = true
      return
    }
    const entries = [...tables.channel.values(), ...tables.pattern.values(), ...tables.shard.values()]
    for (const entry of entries) entry.onServer = false
    resubscribing = Promise.allSettled(entries.map((entry) => sync(entry))).then((results) => {
      results.forEach((result, index) => {
        if (result.status === 'rejected')
          report({ operation: 'resubscribe', error: result.reason, key: entries[index]!.name })
      })
      resubscribing = undefined
      if (resubscribeAgain) {
        resubscribeAgain = false
        return resubscribe()
      }
      emitReconnected()
    })
  }
  /** SSUBSCRIBEs every wanted sharded channel again; resolves with the failures (not reported). */
  const restoreShards = async (): Promise<ShardFailure[]> => {
    const entries = [...tables.shard.values()].filter((entry) => entry.refs > 0)
    for (const entry of entries) entry.onServer = false
    const results = await Promise.allSettled(entries.map((entry) => sync(entry)))
    const failures: ShardFailure[] = []
    results.forEach((result, index) => {
      if (result.status === 'rejected') failures.push({ error: result.reason, key: entries[index]!.name })
    })
    return failures
  }
  const onReady = () => {
    if (everReady) resubscribe()
    everReady = true
  }
  const onConnectionError = (error: Error) =>
    report({ operation: 'connection', error: toRedisError(error, connection as Redis | Cluster | undefined) })

  function connect(): RedisClient {
    if (connection !== undefined) return connection
    const client = isCluster(redis)
      ? duplicateClient(redis, { shardedSubscribers: sharded })
      : duplicateClient(redis, { autoResubscribe: false, lazyConnect: false })
    everReady = client.status === 'ready'
    for (const [event, listener] of messageEvents) client.on(event, listener as (...args: unknown[]) => void)
    // On a Cluster 'ready' only follows a reconnect of the whole client; node switches need the watcher.
    const watched =
      isCluster(client) &&
      watchClusterSubscriber(client, {
        onReconnected: resubscribe,
        restoreShards,
        onShardsRestored: emitReconnected,
        report,
        stopped: () => closed || tables.shard.size === 0,
      })
    if (!watched) client.on('ready', onReady)
    client.on('error', onConnectionError)
    connection = client
    return client
  }

  const add = async (
    kind: SubscriptionKind,
    name: string,
    listener: SubscriberListener<never>,
  ): Promise<SubscriberUnsubscribe> => {
    if (closed) throw new RedisUnavailableError('the subscriber is closed')
    if (typeof name !== 'string' || name.length === 0)
      throw new InvalidArgumentError(`${kind} must be a non-empty string`)
    if (typeof listener !== 'function') throw new InvalidArgumentError('listener must be a function')
    if (kind === 'shard' && !sharded && isCluster(redis))
      throw new InvalidArgumentError(
        'ssubscribe on a Cluster needs createSubscriber(redis, { sharded: true })',
      )
    let entry = tables[kind].get(name)
    if (entry === undefined) {
      entry = {
        kind,
        name,
        listeners: [],
        counts: new Map(),
        refs: 0,
        onServer: false,
        tail: Promise.resolve(),
        queued: 0,
      }
      tables[kind].set(name, entry)
    }
    const own = entry
    change(own, listener, 1)
    try {
      await sync(own)
    } catch (error) {
      change(own, listener, -1)
      sync(own).catch((cleanup: unknown) => report({ operation: 'unsubscribe', error: cleanup, key: name }))
      throw error
    }
    let removed: Promise<void> | undefined
    return () => {
      removed ??=
        !change(own, listener, -1) || closed
          ? Promise.resolve()
          : sync(own).catch((error: unknown) => report({ operation: 'unsubscribe', error, key: name }))
      return removed
    }
  }

  const subscriber: Subscriber<string | Buffer> = {
    subscribe: (channel, listener) => add('channel', channel, listener as SubscriberListener<never>),
    psubscribe: (pattern, listener) => add('pattern', pattern, listener as SubscriberListener<never>),
    ssubscribe: (channel, listener) => add('shard', channel, listener as SubscriberListener<never>),
    on: (event, listener) => events.on(event, listener),
    counts: () => ({
      channels: tables.channel.size,
      patterns: tables.pattern.size,
      shardedChannels: tables.shard.size,
    }),
    get connection() {
      return connection
    },
    close() {
      closing ??= (async () => {
        closed = true
        for (const table of Object.values(tables)) table.clear()
        const client = connection
        if (client === undefined) return
        client.off('ready', onReady)
        // Closing the connection drops every subscription at once: no UNSUBSCRIBE round trips.
        await closeRedis(client, { timeoutMs: redisTimeoutMs })
        // Keep an 'error' listener: a late socket error on an emitter without one would crash the process.
        client.on('error', ignore)
        client.off('error', onConnectionError)
        for (const [event, listener] of messageEvents)
          client.off(event, listener as (...args: unknown[]) => void)
      })()
      return closing
    },
    [Symbol.asyncDispose]: () => subscriber.close(),
  }
  return subscriber
}

function ignore(): void {}
