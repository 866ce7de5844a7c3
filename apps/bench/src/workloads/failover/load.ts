import { performance } from 'node:perf_hooks'
import { Samples } from './samples.js'

/**
 * One call of a failover case. Resolves with `undefined` when Redis answered as usual, or with the
 * name of what the package did instead (`fail-open`, `fetcher ran`, …): an answer the caller got
 * without Redis. A rejection is a failed call, counted by its error code.
 */
export type FailoverCall = (worker: number, iteration: number) => Promise<string | undefined>

export interface RunningLoad {
  readonly samples: Samples
  /** The first message seen for each error code: what an error without a code of ours was. */
  readonly messages: ReadonlyMap<string, string>
  stop(): Promise<void>
}

/**
 * Keeps `concurrency` calls in flight until stopped (closed loop: each slot starts its next call
 * when the previous one settled), recording every call.
 */
export function startLoad(call: FailoverCall, concurrency: number): RunningLoad {
  const samples = new Samples()
  const messages = new Map<string, string>()
  let stopped = false
  let iteration = 0
  const worker = async (slot: number) => {
    while (!stopped) {
      const started = performance.now()
      let outcome: string
      try {
        outcome = (await call(slot, iteration++)) ?? ''
      } catch (error) {
        const code = codeOf(error)
        outcome = `error:${code}`
        if (!messages.has(code)) messages.set(code, error instanceof Error ? error.message : String(error))
      }
      const endMs = performance.now()
      samples.record(endMs, endMs - started, outcome)
      // A call that fails without I/O settles in a microtask: without this, 16 such loops would
      // starve the timers (and the failover) of the event loop.
      if (outcome !== '') await new Promise((resolve) => setImmediate(resolve))
    }
  }
  const workers = Array.from({ length: concurrency }, (_, slot) => worker(slot))
  return {
    samples,
    messages,
    async stop() {
      stopped = true
      await Promise.all(workers)
    },
  }
}

/** The error's stable code (`E_TIMEOUT`, …); a class name or `unknown` for an error without one. */
export function codeOf(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const { code, name } = error as { code?: unknown; name?: unknown }
    if (typeof code === 'string' && code !== '') return code
    if (typeof name === 'string' && name !== '') return name
  }
  return 'unknown'
}
