import type { BenchContext, ContenderFactory } from '../../harness/types.js'
import { SAMPLE_VALUE } from '../baseline.js'

/**
 * What every cache family provides:
 * - l2Hit: getOrSet of warm keys read through Redis (no in-process layer);
 * - l1Hit: getOrSet of warm keys with the family's in-process layer in front of Redis;
 * - stampede: `readers` concurrent getOrSet calls on one cold key, counting fetcher runs.
 */
export interface CacheFamily {
  implementation: string
  l2Hit: ContenderFactory
  l1Hit: ContenderFactory
  stampede(context: BenchContext, readers: number): Promise<StampedeOutcome>
}

export interface StampedeOutcome {
  fetcherCalls: number
  /** From the first call to the last reader's answer. */
  elapsedMs: number
  /** Readers whose value differed from the fetcher's, or that failed. */
  wrongAnswers: number
}

export const KEY_COUNT = 1000
export const TTL_MS = 3_600_000
/** A stand-in for the source of truth: the stampede's fetcher takes this long. */
export const FETCH_MS = 20

export const cacheKey = (iteration: number) => `user:${iteration % KEY_COUNT}`

export const sampleObject = (): unknown => JSON.parse(SAMPLE_VALUE)

/** The fetcher of the hit scenarios: it must never run once the keys are warm (counted). */
export function countingFetcher() {
  const state = { calls: 0 }
  const fetch = async () => {
    state.calls++
    return sampleObject()
  }
  return { state, fetch }
}

/** Runs `readers` concurrent reads of one cold key and checks every answer. */
export async function stampedeWith(
  readers: number,
  read: (fetcher: () => Promise<unknown>) => Promise<unknown>,
): Promise<StampedeOutcome> {
  let fetcherCalls = 0
  const expected = { cold: true, at: Date.now() }
  const fetcher = async () => {
    fetcherCalls++
    await new Promise((resolve) => setTimeout(resolve, FETCH_MS))
    return expected
  }
  const started = performance.now()
  const answers = await Promise.all(
    Array.from({ length: readers }, () =>
      read(fetcher).then(
        (value) => value,
        (error: unknown) => error,
      ),
    ),
  )
  const elapsedMs = performance.now() - started
  const wrongAnswers = answers.filter((answer) => JSON.stringify(answer) !== JSON.stringify(expected)).length
  return { fetcherCalls, elapsedMs, wrongAnswers }
}

/** Fills the keys through the family's own write path, then checks the fetcher stays idle. */
export async function warm(read: (key: string) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < KEY_COUNT; start += 100) {
    await Promise.all(Array.from({ length: 100 }, (_, offset) => read(cacheKey(start + offset))))
  }
}
