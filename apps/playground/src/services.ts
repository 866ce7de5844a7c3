import { type Cache, createCache } from '@x/cache'
import { createLock, type Lock } from '@x/lock'
import { createPubSub, type MessageIterable, type PubSub } from '@x/pubsub'
import { createRateLimiter, type RateLimiter } from '@x/ratelimit'
import type { Codec, RedisClient } from '@x/redis-core'
import {
  createSessionCookie,
  createSessionStore,
  type Session,
  type SessionCookie,
  type SessionStore,
} from '@x/session'
import { trackCacheOutcomes } from './cache-outcome.js'
import type { PlaygroundConfig } from './config.js'
import type { Database } from './db/database.js'
import { eventCodec } from './event-codec.js'
import { eventsChannel, type PlaygroundEvent } from './events.js'
import { createStreamGate, type StreamGate } from './http/stream-gate.js'
import type { Telemetry } from './telemetry.js'

/** What a session carries besides the user id (the user's profile itself comes from the cache). */
export interface SessionData extends Record<string, unknown> {
  email: string
}

/** Everything the handlers use, built once per process by `createServices`. */
export interface Services {
  config: PlaygroundConfig
  instanceId: string
  db: Database
  /** Human-readable description of the database, for /health. */
  database: string
  redis: RedisClient
  /** Users and batches of users, L1 in memory + L2 in Redis, kept coherent by the invalidation bus. */
  cache: Cache
  sessions: SessionStore<SessionData>
  /** HttpOnly, SameSite=Lax, Path=/, HMAC-signed with COOKIE_SECRETS (first signs, all verify). */
  sessionCookie: SessionCookie
  /** Per client IP, one policy. */
  ipLimiter: RateLimiter
  /** Per signed-in user, two policies checked in one call (a minute and a day). */
  userLimiter: RateLimiter
  /** Sign-in attempts per account (e-mail), whatever the address; fails closed. */
  loginAccountLimiter: RateLimiter
  /** Sign-in attempts per client IP; fails closed. */
  loginIpLimiter: RateLimiter
  lock: Lock
  pubsub: PubSub
  /** Publishes on the app's channel; resolves to the receiver count, or null when Redis failed (reported). */
  publishEvent(event: PlaygroundEvent): Promise<number | null>
  /** The app's events as an async iterable (bounded buffer), ended by `signal`. */
  subscribeEvents(signal: AbortSignal): MessageIterable<PlaygroundEvent>
  /** Called when pub/sub reconnected and events may have been missed; returns the unsubscribe. */
  onResync(listener: () => void): () => void
  /** Open `/events` streams, capped per client and in total. */
  eventStreams: StreamGate
  /** Spans and metrics of this process (shared by every instance in it), closed by the process. */
  telemetry: Telemetry
  /** Aborts when the process shuts down, so long-lived responses (SSE) end and the server can close. */
  shutdown: AbortSignal
  close(): Promise<void>
}

export type { Session }

export interface CreateServicesOptions {
  config: PlaygroundConfig
  db: Database
  database: string
  redis: RedisClient
  telemetry: Telemetry
}

export async function createServices(options: CreateServicesOptions): Promise<Services> {
  const { config, db, database, redis, telemetry } = options
  const prefix = config.keyPrefix
  const log = (scope: string) => (error: unknown, context?: unknown) =>
    console.error(`[${scope}]`, context ?? '', error instanceof Error ? error.message : error)

  const cache = createCache({
    redis,
    prefix: `${prefix}:cache`,
    ttlMs: 60_000,
    graceMs: 5 * 60_000,
    jitter: 0.1,
    // L1 makes a hit free, and the bus (on by default with L1) evicts a key from every other
    // instance's L1 when it changes anywhere: no instance serves a stale profile from memory.
    l1: { maxEntries: 1000, ttlMs: 30_000 },
  })
  cache.on('error', (event) => log('cache')(event.error, event.operation))
  // Per-read outcomes (hit, miss, stale, coalesced) for the X-Cache header the page shows.
  trackCacheOutcomes(cache)
  const absoluteTimeout = 7 * 24 * 60 * 60_000
  const sessions = createSessionStore<SessionData>({
    redis,
    prefix: `${prefix}:session`,
    idleTimeoutMs: 24 * 60 * 60_000,
    absoluteTimeoutMs: absoluteTimeout,
  })
  sessions.on('error', ({ operation, error, key }) => log('session')(error, { operation, key }))
  const sessionCookie = createSessionCookie({
    name: 'sid',
    // Plain http on localhost by default; set COOKIE_SECURE=true behind https.
    secure: config.cookieSecure,
    maxAgeMs: absoluteTimeout,
    keys: config.cookieSecrets,
  })
  // The API stays up when Redis is away (fail-open, said in the result); sessions fail closed.
  const ipLimiter = createRateLimiter({
    redis,
    prefix: `${prefix}:rl:ip`,
    policies: [{ name: 'ip', limit: config.ipLimitPerMinute, windowMs: 60_000 }],
    failureMode: 'fail-open',
  })
  const userLimiter = createRateLimiter({
    redis,
    prefix: `${prefix}:rl:user`,
    policies: [
      { name: 'user-minute', limit: config.userLimitPerMinute, windowMs: 60_000 },
      { name: 'user-day', limit: config.userLimitPerMinute * 60, windowMs: 24 * 60 * 60_000 },
    ],
    failureMode: 'fail-open',
  })
  for (const limiter of [ipLimiter, userLimiter]) {
    limiter.on('error', ({ operation, error, key }) => log('ratelimit')(error, { operation, key }))
  }
  // Sign-in fails closed: a limiter that cannot count would let password guesses through unseen
  // (and a 503 only after checking the password would tell right from wrong).
  const loginAccountLimiter = createRateLimiter({
    redis,
    prefix: `${prefix}:rl:login-account`,
    policies: [{ name: 'login-account', limit: config.loginAttemptsPerAccount, windowMs: 15 * 60_000 }],
    failureMode: 'throw',
  })
  const loginIpLimiter = createRateLimiter({
    redis,
    prefix: `${prefix}:rl:login-ip`,
    policies: [{ name: 'login-ip', limit: config.loginAttemptsPerIp, windowMs: 60_000 }],
    failureMode: 'throw',
  })
  const lock = createLock({
    redis,
    prefix: `${prefix}:lock`,
    ttlMs: 5000,
  })
  lock.on('error', ({ operation, key, error }) => log('lock')(error, `${operation} ${key ?? ''}`))

  const resyncListeners = new Set<() => void>()
  const pubsub = createPubSub({
    redis,
    // Bounds and rebuilds what arrives on the events channel (see event-codec.ts).
    codec: eventCodec as Codec<unknown>,
  })
  pubsub.on('error', ({ operation, key, error }) => log('pubsub')(error, `${operation} ${key ?? ''}`))
  pubsub.on('reconnected', () => {
    for (const listener of resyncListeners) listener()
  })
  const channel = eventsChannel(prefix)
  const shutdown = new AbortController()

  return {
    config,
    instanceId: config.instanceId,
    db,
    database,
    redis,
    cache,
    sessions,
    sessionCookie,
    ipLimiter,
    userLimiter,
    loginAccountLimiter,
    loginIpLimiter,
    lock,
    pubsub,
    async publishEvent(event) {
      try {
        return await pubsub.publish(channel, event)
      } catch (error) {
        log('pubsub')(error, `publish ${event.type}`)
        return null
      }
    },
    subscribeEvents(signal) {
      return pubsub.iterate<PlaygroundEvent>(channel, { signal, highWaterMark: 256, overflow: 'drop-oldest' })
    },
    onResync(listener) {
      resyncListeners.add(listener)
      return () => resyncListeners.delete(listener)
    },
    eventStreams: createStreamGate({
      perClient: config.eventStreamsPerClient,
      total: config.eventStreamsTotal,
    }),
    telemetry,
    shutdown: shutdown.signal,
    async close() {
      shutdown.abort()
      await Promise.allSettled([cache.close(), lock.close(), pubsub.close()])
    },
  }
}
