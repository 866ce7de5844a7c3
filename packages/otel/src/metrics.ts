import type { Attributes, Counter, Histogram, Meter } from '@opentelemetry/api'

/** What one finished operation tells the metrics. */
export interface Finished {
  pkg: string
  operation: string
  context: Record<string, unknown>
  durationS: number
  /** `error.type` when the operation failed. */
  errorType: string | undefined
}

/**
 * A stream entry's ID starts with the publishing server's clock in ms: now minus that is the entry's
 * age when its handler finished, measured against this machine's clock (keep clocks in sync with NTP).
 */
function streamLagMs(id: unknown): number | undefined {
  if (typeof id !== 'string') return undefined
  const published = Number(id.slice(0, id.indexOf('-')))
  return Number.isFinite(published) && published > 0 ? Math.max(0, Date.now() - published) : undefined
}

/** Seconds-scale buckets (0.5 ms … 10 s): the SDK's default boundaries are made for milliseconds. */
const SECONDS = {
  advice: {
    explicitBucketBoundaries: [
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ],
  },
}

/** Cache operations that read: the hit ratio is over these, not over writes and invalidations. */
const CACHE_READS = new Set(['get', 'getOrSet', 'getMany', 'getOrSetMany', 'has'])

const seconds = (ms: unknown) => (typeof ms === 'number' && Number.isFinite(ms) ? ms / 1000 : undefined)

/**
 * The instruments, created once per meter. Names follow OpenTelemetry's conventions: dot-separated
 * namespaces, durations in seconds as histograms, counts as counters with the outcome as an attribute
 * (a ratio such as the cache hit ratio is a query over one counter, not a metric of its own).
 */
export function createRecorder(meter: Meter) {
  const duration: Histogram = meter.createHistogram('x.operation.duration', {
    description: 'Duration of @x operations, by package, operation and outcome.',
    unit: 's',
    ...SECONDS,
  })
  const cacheRequests: Counter = meter.createCounter('x.cache.requests', {
    description: 'Cache reads by outcome: hit-l1, hit-l2, miss, stale, fail-safe, coalesced.',
  })
  const decisions: Counter = meter.createCounter('x.ratelimit.decisions', {
    description:
      'Rate-limit decisions by outcome: allowed, limited, blocked-cache, fail-open, fail-closed, fallback.',
  })
  const lockWait: Histogram = meter.createHistogram('x.lock.wait.duration', {
    description: 'Time from asking for a lock to getting it (or giving up).',
    unit: 's',
    ...SECONDS,
  })
  const lockHold: Histogram = meter.createHistogram('x.lock.hold.duration', {
    description: 'Time a lock was held, from acquisition to release.',
    unit: 's',
    ...SECONDS,
  })
  const sessions: Counter = meter.createCounter('x.session.operations', {
    description:
      'Session operations by operation and outcome: found, expired, created, rotated, conflict, destroyed.',
  })
  const messages: Counter = meter.createCounter('x.pubsub.messages', {
    description: 'Messages by outcome: delivered, invalid, dropped, reclaimed, failed, dead-lettered.',
  })
  const lag: Histogram = meter.createHistogram('x.pubsub.delivery.lag', {
    description: 'Age of a stream entry when its handler finished (from the entry ID).',
    unit: 's',
    ...SECONDS,
  })
  const handlerErrors: Counter = meter.createCounter('x.pubsub.handler.errors', {
    description: 'Handlers that threw or rejected (stream entries left pending for a retry).',
  })
  const deadLetters: Counter = meter.createCounter('x.pubsub.dead_letters', {
    description: 'Stream entries moved to the dead-letter stream.',
  })

  return (finished: Finished): void => {
    const { pkg, operation, context, errorType } = finished
    const outcome = typeof context.outcome === 'string' ? context.outcome : errorType ? 'error' : 'ok'
    const attributes: Attributes = { 'x.package': pkg, 'x.operation': operation, 'x.outcome': outcome }
    if (errorType) attributes['error.type'] = errorType
    duration.record(finished.durationS, attributes)

    const byOutcome: Attributes = { 'x.operation': operation, 'x.outcome': outcome }
    if (pkg === 'cache' && CACHE_READS.has(operation) && typeof context.outcome === 'string')
      cacheRequests.add(1, byOutcome)
    else if (pkg === 'ratelimit' && typeof context.outcome === 'string') decisions.add(1, byOutcome)
    else if (pkg === 'session') sessions.add(1, byOutcome)
    else if (pkg === 'lock') {
      const waited = seconds(context.waitedMs)
      if (waited !== undefined) lockWait.record(waited, byOutcome)
      // withLock releases through release(): one hold, recorded once, from release.
      const held = operation === 'release' ? seconds(context.heldMs) : undefined
      if (held !== undefined) lockHold.record(held, { 'x.kind': String(context.kind ?? 'lock') })
    } else if (pkg === 'pubsub' && (operation === 'deliver' || operation === 'consume')) {
      if (typeof context.outcome === 'string') messages.add(1, byOutcome)
      const delay = seconds(context.lagMs ?? streamLagMs(context.id))
      if (delay !== undefined) lag.record(delay, { 'x.operation': operation })
      if (outcome === 'dead-lettered') deadLetters.add(1, { 'x.operation': operation })
      if (errorType || outcome === 'failed') handlerErrors.add(1, { 'x.operation': operation })
    }
  }
}
