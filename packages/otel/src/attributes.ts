import type { Attributes } from '@opentelemetry/api'
import { XError } from '@x/redis-core'

/**
 * Context fields a span may carry, and the attribute each becomes. Only names, counts and outcomes
 * are copied: the packages never put values, tokens or secrets in a context, and a field that is not
 * listed here is never exported, so a future field cannot leak by accident.
 */
const FIELDS: Record<string, string> = {
  outcome: 'x.outcome',
  key: 'x.key',
  keys: 'x.keys.count',
  resource: 'x.resource',
  channel: 'x.channel',
  pattern: 'x.pattern',
  stream: 'x.stream',
  group: 'x.group',
  policy: 'x.policy',
  policies: 'x.policies',
  roundTrips: 'x.round_trips',
  fence: 'x.lock.fence',
  waitedMs: 'x.lock.waited_ms',
  heldMs: 'x.lock.held_ms',
  lagMs: 'x.pubsub.lag_ms',
  deliveries: 'x.pubsub.deliveries',
  handlers: 'x.pubsub.handlers',
  kind: 'x.kind',
  allowed: 'x.ratelimit.allowed',
  remaining: 'x.ratelimit.remaining',
  tier: 'x.cache.tier',
  tags: 'x.cache.tags.count',
}

/** The attributes of one operation: package and operation always, then the listed context fields. */
export function attributesOf(pkg: string, operation: string, context: object): Attributes {
  const attributes: Attributes = { 'x.package': pkg, 'x.operation': operation, 'db.system.name': 'redis' }
  for (const [field, name] of Object.entries(FIELDS)) {
    const value = (context as Record<string, unknown>)[field]
    if (value === undefined || value === null) continue
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      attributes[name] = value
    } else if (Array.isArray(value)) {
      // A list of names (keys, tags, policies) is reported by count unless it is short strings.
      attributes[name] = name.endsWith('.count')
        ? value.length
        : value.filter((item): item is string => typeof item === 'string').slice(0, 16)
    } else if (value instanceof Set || value instanceof Map) {
      attributes[name] = value.size
    }
  }
  return attributes
}

/** `error.type` as OpenTelemetry's conventions spell it: the stable code of an @x error, else its class. */
export function errorType(error: unknown): string {
  if (XError.isInstance(error)) return error.code
  if (error instanceof Error) return error.name
  return typeof error
}
