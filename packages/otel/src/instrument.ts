import diagnostics from 'node:diagnostics_channel'
import {
  type MeterProvider,
  metrics,
  context as otelContext,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api'
import { attributesOf, errorType } from './attributes.js'
import { CHANNELS, channelName, type InstrumentedPackage, PACKAGES } from './channels.js'
import { createRecorder } from './metrics.js'

export interface InstrumentOptions {
  /**
   * Where spans go.
   * @default the global tracer provider (`trace.getTracerProvider()`)
   */
  tracerProvider?: TracerProvider
  /**
   * Where metrics go.
   * @default the global meter provider (`metrics.getMeterProvider()`)
   */
  meterProvider?: MeterProvider
  /**
   * Which packages to instrument.
   * @default every package: cache, ratelimit, lock, session, pubsub
   */
  packages?: readonly InstrumentedPackage[]
  /**
   * Turn spans or metrics off.
   * @default { spans: true, metrics: true }
   */
  enabled?: { spans?: boolean; metrics?: boolean }
}

export interface Instrumentation {
  /** Stops listening: the packages' channels have no subscriber again and cost nothing. */
  close(): void
  [Symbol.dispose](): void
}

interface Running {
  span: Span | undefined
  started: number
}

const NAME = '@x/otel'
const VERSION = '0.0.0'

/**
 * Turns the @x packages' tracing channels (`x:<package>:<operation>`) into OpenTelemetry spans and
 * metrics. Spans are children of the span active when the operation was called and carry the outcome
 * (hit, stale, limited, fail-open, waited, fenced, dead-lettered…) as attributes; metrics count the
 * outcomes and time the waits. Call it once at start-up, before the first operation.
 */
export function instrument(options: InstrumentOptions = {}): Instrumentation {
  const spans = options.enabled?.spans ?? true
  const tracer: Tracer | undefined = spans
    ? (options.tracerProvider ?? trace.getTracerProvider()).getTracer(NAME, VERSION)
    : undefined
  const record =
    (options.enabled?.metrics ?? true)
      ? createRecorder((options.meterProvider ?? metrics.getMeterProvider()).getMeter(NAME, VERSION))
      : undefined

  const unsubscribers: Array<() => void> = []
  for (const pkg of options.packages ?? PACKAGES) {
    for (const operation of CHANNELS[pkg]) {
      const channel = diagnostics.tracingChannel(channelName(pkg, operation))
      const running = new WeakMap<object, Running>()

      const finish = (context: Record<string, unknown>) => {
        const state = running.get(context)
        if (!state) return
        running.delete(context)
        const failed = 'error' in context && context.error !== undefined
        const type = failed ? errorType(context.error) : undefined
        if (state.span) {
          state.span.setAttributes(attributesOf(pkg, operation, context))
          if (failed) {
            state.span.recordException(context.error instanceof Error ? context.error : String(context.error))
            state.span.setAttribute('error.type', type ?? 'Error')
            state.span.setStatus({ code: SpanStatusCode.ERROR })
          }
          state.span.end()
        }
        record?.({
          pkg,
          operation,
          context,
          durationS: (performance.now() - state.started) / 1000,
          errorType: type,
        })
      }

      const handlers = {
        start(message: unknown) {
          const context = message as Record<string, unknown>
          running.set(context, {
            started: performance.now(),
            span: tracer?.startSpan(
              `${pkg} ${operation}`,
              { kind: SpanKind.INTERNAL, attributes: attributesOf(pkg, operation, context) },
              otelContext.active(),
            ),
          })
        },
        end(message: unknown) {
          // A synchronous operation, or an async one that threw before returning its promise, ends
          // here; a promise ends at asyncEnd.
          const context = message as Record<string, unknown>
          if ('result' in context || 'error' in context) finish(context)
        },
        asyncStart() {},
        asyncEnd(message: unknown) {
          finish(message as Record<string, unknown>)
        },
        error() {},
      }
      channel.subscribe(handlers)
      unsubscribers.push(() => channel.unsubscribe(handlers))
    }
  }

  let closed = false
  const close = () => {
    if (closed) return
    closed = true
    for (const unsubscribe of unsubscribers) unsubscribe()
  }
  return { close, [Symbol.dispose]: close }
}
