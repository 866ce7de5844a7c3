import type { Context } from '@opentelemetry/api'
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base'

/** What the page shows of a span: never its key or resource attributes. */
export interface RecentSpan {
  name: string
  outcome: string | undefined
  error: string | undefined
  durationMs: number
  endedAt: number
}

/**
 * Keeps the last `size` ended spans in memory, for the page: the playground has no tracing backend,
 * the point is that spans are on and what they look like. Keys stay out: only the span's name, its
 * outcome and error type are kept, so the page's list cannot show what a user looked up.
 */
export class SpanRing implements SpanProcessor {
  readonly #spans: RecentSpan[] = []
  readonly #size: number
  /** Spans ended since start-up. */
  ended = 0

  constructor(size: number) {
    this.#size = size
  }

  onStart(_span: Span, _context: Context): void {}

  onEnd(span: ReadableSpan): void {
    this.ended += 1
    const [seconds, nanos] = span.duration
    const outcome = span.attributes['x.outcome']
    const error = span.attributes['error.type']
    this.#spans.unshift({
      name: span.name,
      outcome: typeof outcome === 'string' ? outcome : undefined,
      error: typeof error === 'string' ? error : undefined,
      durationMs: seconds * 1000 + nanos / 1e6,
      endedAt: span.endTime[0] * 1000 + span.endTime[1] / 1e6,
    })
    if (this.#spans.length > this.#size) this.#spans.pop()
  }

  recent(): RecentSpan[] {
    return [...this.#spans]
  }

  async forceFlush(): Promise<void> {}

  async shutdown(): Promise<void> {
    this.#spans.length = 0
  }
}
