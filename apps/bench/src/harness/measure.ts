import { performance } from 'node:perf_hooks'
import { LatencyRecorder } from './latency-recorder.js'
import type { Operation } from './types.js'

export interface MeasureOptions {
  concurrency: number
  durationMs: number
  warmupMs: number
}

export interface Measurement {
  operations: number
  opsPerSec: number
  p50Us: number
  p99Us: number
  errors: number
  firstError?: unknown
}

/**
 * Keeps `concurrency` calls in flight for `durationMs` (closed loop: each slot starts its next call
 * when the previous one settles), after an unrecorded warm-up of the same shape. Throughput counts
 * every call finished, divided by the time until the last one finished.
 */
export async function measure(operation: Operation, options: MeasureOptions): Promise<Measurement> {
  if (options.warmupMs > 0) await loop(operation, options.concurrency, options.warmupMs, undefined)
  const recorder = new LatencyRecorder()
  const started = performance.now()
  const outcome = await loop(operation, options.concurrency, options.durationMs, recorder)
  const elapsedMs = performance.now() - started
  const [p50Us, p99Us] = recorder.percentiles(0.5, 0.99)
  return {
    operations: outcome.operations,
    opsPerSec: (outcome.operations / elapsedMs) * 1000,
    p50Us: p50Us!,
    p99Us: p99Us!,
    errors: outcome.errors,
    ...(outcome.firstError === undefined ? {} : { firstError: outcome.firstError }),
  }
}

async function loop(
  operation: Operation,
  concurrency: number,
  durationMs: number,
  recorder: LatencyRecorder | undefined,
): Promise<{ operations: number; errors: number; firstError?: unknown }> {
  const end = performance.now() + durationMs
  let iteration = 0
  let operations = 0
  let errors = 0
  let firstError: unknown
  const worker = async (slot: number) => {
    let now = performance.now()
    while (now < end) {
      const started = now
      try {
        await operation(slot, iteration++)
        operations++
      } catch (error) {
        errors++
        firstError ??= error
      }
      now = performance.now()
      recorder?.record((now - started) * 1000)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, (_, slot) => worker(slot)))
  return { operations, errors, firstError }
}
