import { DataPointType, type ResourceMetrics } from '@opentelemetry/sdk-metrics'

/** Cumulative counts since start-up, by outcome (`hit-l1`, `limited`, `acquired`, …). */
export type ByOutcome = Record<string, number>

/** What the page's live counters chart: cumulative, so the page charts the change per interval. */
export interface MetricsSummary {
  time: number
  /** `x.cache.requests` of reads (get, getOrSet and their batches) by outcome: the hit ratio by tier. */
  cache: ByOutcome
  /** `x.ratelimit.decisions` of `limit` calls by outcome (the page's budget polling peeks: left out). */
  ratelimit: ByOutcome
  /** `x.lock.wait.duration`: waits by outcome and the seconds spent waiting in all of them. */
  lock: { waits: ByOutcome; waitSeconds: number }
  /** `x.session.operations` by outcome. */
  session: ByOutcome
  /** `x.pubsub.messages` by outcome. */
  pubsub: ByOutcome
  /** Spans ended since start-up. */
  spans: number
}

/** Writes and invalidations count as cache requests too, but have no place in a hit ratio. */
const CACHE_READS = new Set(['get', 'getOrSet', 'getMany', 'getOrSetMany'])

const add = (into: ByOutcome, outcome: unknown, count: number) => {
  const key = typeof outcome === 'string' ? outcome : 'unknown'
  into[key] = (into[key] ?? 0) + count
}

/** Folds one collection of the MeterProvider into the page's counters. */
export function summarize(collected: ResourceMetrics, spans: number): MetricsSummary {
  const summary: MetricsSummary = {
    time: Date.now(),
    cache: {},
    ratelimit: {},
    lock: { waits: {}, waitSeconds: 0 },
    session: {},
    pubsub: {},
    spans,
  }
  for (const scope of collected.scopeMetrics) {
    for (const metric of scope.metrics) {
      const name = metric.descriptor.name
      if (metric.dataPointType === DataPointType.SUM) {
        const into =
          name === 'x.cache.requests'
            ? summary.cache
            : name === 'x.session.operations'
              ? summary.session
              : name === 'x.pubsub.messages'
                ? summary.pubsub
                : name === 'x.ratelimit.decisions'
                  ? summary.ratelimit
                  : undefined
        if (!into) continue
        for (const point of metric.dataPoints) {
          const operation = String(point.attributes['x.operation'])
          if (into === summary.ratelimit && operation !== 'limit') continue
          if (into === summary.cache && !CACHE_READS.has(operation)) continue
          add(into, point.attributes['x.outcome'], point.value)
        }
      } else if (metric.dataPointType === DataPointType.HISTOGRAM && name === 'x.lock.wait.duration') {
        for (const point of metric.dataPoints) {
          add(summary.lock.waits, point.attributes['x.outcome'], point.value.count)
          summary.lock.waitSeconds += point.value.sum ?? 0
        }
      }
    }
  }
  return summary
}
