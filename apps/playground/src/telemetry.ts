import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus'
import { AggregationType, MeterProvider } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base'
import { instrument } from '@x/otel'
import { type MetricsSummary, summarize } from './metrics-summary.js'
import { type RecentSpan, SpanRing } from './span-ring.js'

/** 0.5 ms to 10 s: a cache hit from memory up to a lock wait. */
const SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

export interface Telemetry {
  /** Every metric in Prometheus text format, serialized by the OpenTelemetry Prometheus exporter. */
  prometheus(): Promise<string>
  /** The counters the page charts, from the same collection as `prometheus()`. */
  summary(): Promise<MetricsSummary>
  /** The last spans that ended, newest first: names, outcomes and durations only. */
  recentSpans(): RecentSpan[]
  close(): Promise<void>
}

export interface CreateTelemetryOptions {
  /**
   * How many ended spans to keep in memory for the page.
   * @default 20
   */
  recentSpans?: number
}

/**
 * Spans and metrics for the whole process: the packages publish on process-wide tracing channels,
 * so one `instrument()` sees every instance running in this process. No exporter leaves the
 * process: metrics are read on demand by GET /metrics, spans end in a small ring the page shows.
 */
export function createTelemetry(options: CreateTelemetryOptions = {}): Telemetry {
  // The app serves the exporter's output on its own route (rate-limited like every route), so the
  // exporter must not open a port of its own.
  const exporter = new PrometheusExporter({ preventServerStart: true })
  const serializer = new PrometheusSerializer()
  const meterProvider = new MeterProvider({
    readers: [exporter],
    // The SDK's default buckets (0 … 10000) are made for milliseconds; @x durations are in seconds.
    views: [
      {
        instrumentUnit: 's',
        aggregation: {
          type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM,
          options: { boundaries: SECONDS_BUCKETS },
        },
      },
    ],
  })
  const ring = new SpanRing(options.recentSpans ?? 20)
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [ring] })
  const instrumentation = instrument({ tracerProvider, meterProvider })

  const collect = async () => {
    const { resourceMetrics, errors } = await exporter.collect()
    if (errors.length > 0) console.error('[metrics] collection errors', ...errors)
    return resourceMetrics
  }

  return {
    async prometheus() {
      return serializer.serialize(await collect())
    },
    async summary() {
      return summarize(await collect(), ring.ended)
    },
    recentSpans: () => ring.recent(),
    async close() {
      instrumentation.close()
      await Promise.allSettled([meterProvider.shutdown(), tracerProvider.shutdown()])
    },
  }
}
