import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base'
import { createCache } from '@x/cache'
import { instrument } from '@x/otel'
import { createRateLimiter } from '@x/ratelimit'
import { createTracing } from '@x/redis-core'
import { measure } from '../../harness/measure.js'
import { formatOps } from '../../harness/report.js'
import { median } from '../../harness/stats.js'
import type { BenchContext, CustomScenario, Operation, Row } from '../../harness/types.js'
import { IMPLEMENTATION, SCENARIO } from '../../scenario-names.js'
import { getBaseline } from '../baseline.js'

/** Spans are built and batched as in production, then dropped: the cost measured is the library's. */
const discard: SpanExporter = {
  export: (_spans, done) => done({ code: 0 }),
  shutdown: async () => {},
}

interface Subject {
  implementation: string
  concurrency: number
  build(context: BenchContext): Promise<{ operation: Operation; close(): Promise<void> }>
}

const subjects: Subject[] = [
  {
    implementation: `${IMPLEMENTATION.xCache} L1 hit`,
    concurrency: 1,
    async build(context) {
      const cache = createCache({
        redis: context.redis,
        prefix: context.prefix('observed-cache'),
        ttlMs: 3_600_000,
        l1: { maxEntries: 10_000, ttlMs: 3_600_000 },
      })
      for (let index = 0; index < 1000; index++) await cache.getOrSet(`k${index}`, async () => ({ index }))
      return {
        operation: (_worker, iteration) =>
          cache.getOrSet(`k${iteration % 1000}`, async () => ({ iteration })),
        close: () => cache.close(),
      }
    },
  },
  {
    implementation: `${IMPLEMENTATION.xRateLimit} limit()`,
    concurrency: 64,
    async build(context) {
      const limiter = createRateLimiter({
        redis: context.redis,
        prefix: context.prefix('observed-limit'),
        limit: 1_000_000_000,
        windowMs: 3_600_000,
      })
      return {
        operation: (_worker, iteration) => limiter.limit(`k${iteration % 1000}`),
        close: async () => {},
      }
    },
  },
]

/**
 * What the tracing channels cost: each subject runs with nobody listening (the default: one boolean
 * check per operation) and with @x/otel turning every operation into a span and metrics, alternating
 * in every round. "Nobody listening" against the previous full run is the table "c=1 against the
 * previous full run" and the L2/limit() rows of their own scenarios.
 */
export const observabilityScenario: CustomScenario = {
  kind: 'custom',
  workload: 'observability',
  scenario: SCENARIO.tracing,
  async run(context) {
    const { settings } = context
    const tracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(discard)] })
    const reader = new PeriodicExportingMetricReader({
      exporter: new InMemoryMetricExporter(AggregationTemporality.DELTA),
      exportIntervalMillis: 60_000,
    })
    const meterProvider = new MeterProvider({ readers: [reader] })
    const get = await getBaseline(context)
    const rows: Row[] = []
    const table = [
      '| operation | c | nobody listening | @x/otel listening | listening ÷ not (rounds) |',
      '|---|---|---|---|---|',
    ]
    try {
      for (const subject of subjects) {
        const built = await subject.build(context)
        const quiet: number[] = []
        const traced: number[] = []
        const gets: number[] = []
        try {
          for (let round = 0; round < settings.rounds; round++) {
            const cell = {
              concurrency: subject.concurrency,
              durationMs: settings.durationMs,
              warmupMs: settings.warmupMs,
            }
            if (!('unavailable' in get)) gets.push((await measure(get.operation, cell)).opsPerSec)
            const phases = round % 2 === 0 ? [false, true] : [true, false]
            for (const listening of phases) {
              const instrumentation = listening ? instrument({ tracerProvider, meterProvider }) : undefined
              try {
                ;(listening ? traced : quiet).push((await measure(built.operation, cell)).opsPerSec)
              } finally {
                instrumentation?.close()
              }
            }
          }
        } finally {
          await built.close()
        }
        const ratios = traced.map((value, round) => value / (quiet[round] ?? Number.NaN))
        for (const [label, series] of [
          ['nobody listening', quiet],
          ['@x/otel listening', traced],
        ] as const) {
          rows.push({
            workload: 'observability',
            scenario: SCENARIO.tracing,
            implementation: `${subject.implementation} (${label})`,
            concurrency: subject.concurrency,
            opsPerSec: median(series),
            p50Us: Number.NaN,
            p99Us: Number.NaN,
            ratioToGet: median(series.map((value, round) => value / (gets[round] ?? Number.NaN))),
          })
        }
        table.push(
          `| ${subject.implementation} | ${subject.concurrency} | ${formatOps(median(quiet))}/s | ${formatOps(median(traced))}/s | ` +
            `${median(ratios).toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}) |`,
        )
      }
    } finally {
      await tracerProvider.shutdown()
      await meterProvider.shutdown()
    }
    const seam = await seamCost(context)
    return {
      rows,
      table,
      notes: [
        'spans go through a BatchSpanProcessor to an exporter that drops them; metrics aggregate in an SDK MeterProvider',
        seam,
      ],
    }
  },
}

/**
 * The seam itself with nobody listening: an empty async operation called through a tracer
 * (`trace(context, fn)`, what every public operation does) against the same operation called
 * directly, alternating in every round. Read as this process's CPU time per call (user + system),
 * which a loaded machine disturbs far less than wall time: the difference is what the channels cost
 * a user who never subscribes, whatever the operation.
 */
async function seamCost(context: BenchContext): Promise<string> {
  const calls = context.settings.quick ? 20_000 : 200_000
  const tracer = createTracing('bench').operation('seam')
  const empty = async () => {}
  const direct = () => empty()
  const traced = () => tracer.trace({ key: 'k' }, empty)
  const cpuNsPerCall = async (operation: () => Promise<void>) => {
    const before = process.cpuUsage()
    for (let index = 0; index < calls; index++) await operation()
    const used = process.cpuUsage(before)
    return ((used.user + used.system) * 1000) / calls
  }
  await cpuNsPerCall(traced) // warm-up: both paths compiled before the first round
  await cpuNsPerCall(direct)
  const extraNs: number[] = []
  const plainNs: number[] = []
  for (let round = 0; round < context.settings.rounds; round++) {
    const first = round % 2 === 0 ? direct : traced
    const a = await cpuNsPerCall(first)
    const b = await cpuNsPerCall(first === direct ? traced : direct)
    const [plain, seam] = first === direct ? [a, b] : [b, a]
    plainNs.push(plain)
    extraNs.push(seam - plain)
  }
  const spread = `${Math.min(...extraNs).toFixed(0)} to ${Math.max(...extraNs).toFixed(0)}`
  return (
    `the seam with nobody listening: ${median(extraNs).toFixed(0)} ns of CPU per call (rounds ${spread}), on an empty ` +
    `async operation of ${median(plainNs).toFixed(0)} ns: tracer.trace(context, fn) against fn() called directly`
  )
}
