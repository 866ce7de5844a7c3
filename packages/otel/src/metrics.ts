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
  })
  const lockHold: Histogram = meter.createHistogram('x.lock.hold.duration', {
    description: 'Time a lock was held, from acquisition to release.',
    unit: 's',
  })
  const sessions: Counter = meter.createCounter('x.session.operations', {
    description:
      'Session operations by operation and outcome: found, expired, created, rotated, conflict, destroyed.',
  })
  const messages: Counter = meter.createCounter('x.pubsub.messages', {
    description: 'Messages by outcome: delivered, invalid, dropped, reclaimed, dead-lettered.',
  })
  const lag: Histogram = meter.createHistogram('x.pubsub.delivery.lag', {
    description: 'Time from publishing a message to its handler receiving it.',
    unit: 's',
  })
  const handlerErrors: Counter = meter.createCounter('x.pubsub.handler.errors', {
    description: 'Message handlers that threw or rejected.',
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
    if (pkg === 'cache' && typeof context.outcome === 'string') cacheRequests.add(1, byOutcome)
    else if (pkg === 'ratelimit' && typeof context.outcome === 'string') decisions.add(1, byOutcome)
    else if (pkg === 'session') sessions.add(1, byOutcome)
    else if (pkg === 'lock') {
      const waited = seconds(context.waitedMs)
      if (waited !== undefined) lockWait.record(waited, byOutcome)
      const held = seconds(context.heldMs)
      if (held !== undefined) lockHold.record(held, { 'x.operation': operation })
    } else if (pkg === 'pubsub') {
      if (typeof context.outcome === 'string') messages.add(1, byOutcome)
      const delay = seconds(context.lagMs)
      if (delay !== undefined) lag.record(delay, { 'x.operation': operation })
      if (outcome === 'dead-lettered') deadLetters.add(1, { 'x.operation': operation })
      if (
        (operation === 'deliver' || operation === 'streamDeliver') &&
        (errorType || outcome === 'handler-error')
      ) {
        handlerErrors.add(1, { 'x.operation': operation })
      }
    }
  }
}
