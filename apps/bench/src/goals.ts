import { type ScenarioResult, seriesKey } from './harness/runner.js'
import { median } from './harness/stats.js'
import type { Row } from './harness/types.js'
import { IMPLEMENTATION as I, SCENARIO as S } from './scenario-names.js'

export interface GoalOutcome {
  goal: string
  measured: string
  /** CPU per call on both sides for the implementations compared: noise-robust evidence for the ratio. */
  cost: string
  /** undefined when an implementation the goal needs did not run. */
  met: boolean | undefined
}

interface Lookup {
  row(scenario: string, implementation: string, concurrency: number): Row | undefined
  /** Median over rounds of a/b, both measured in the same round (NaN if either is missing). */
  pair(scenario: string, a: string, b: string, concurrency: number): number
  /** The in-round ratios a/b, for judging the noise: "rounds 0.81–1.20". */
  spread(scenario: string, a: string, b: string, concurrency: number): string
}

interface Goal {
  goal: string
  /** [scenario, implementations] whose cost per call explains the ratio. */
  costOf?: [string, string[]]
  evaluate(lookup: Lookup): { value: number; measured: string; threshold: number; atMost?: boolean }[]
}

const times = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}×` : 'n/a')

/** vs node-redis GET and auto-pipelined ioredis GET of the same rounds: distance to the real ceiling. */
function ceilings(lookup: Lookup, scenario: string, implementation: string): string {
  return [I.nodeRedisGet, I.autoPipelinedGet]
    .map((reference) => `${times(lookup.pair(scenario, implementation, reference, 64))} ${reference}`)
    .join(', ')
}

function contended(scenario: string, minimum: number): Goal['evaluate'] {
  return ({ row }) => {
    const x = row(scenario, I.xLock, 32)
    const peers = [I.redisSemaphore, I.redlock]
      .map((name) => row(scenario, name, 32))
      .filter((candidate): candidate is Row => candidate !== undefined)
    const best = peers.sort((a, b) => b.opsPerSec - a.opsPerSec)[0]
    if (!x || !best) return [missing(minimum), missing(0.2)]
    const wait = x.p99Us / best.p99Us
    return [
      {
        ...ratio(x.opsPerSec / best.opsPerSec, minimum),
        measured: `${times(x.opsPerSec / best.opsPerSec)} sections/s vs ${best.implementation}`,
      },
      {
        value: wait,
        threshold: 0.2,
        atMost: true,
        measured: `p99 wait ${times(wait)} of ${best.implementation}'s`,
      },
    ]
  }
}

const GOALS: Goal[] = [
  {
    goal: 'cache hit through Redis ≥ 1.0× raw ioredis GET and ≥ cache-manager at c=64',
    costOf: [S.cacheL2, [I.xCache, I.cacheManager, I.get]],
    evaluate: (lookup) => [
      getPair(lookup, S.cacheL2, I.xCache, 1, ceilings(lookup, S.cacheL2, I.xCache)),
      compare(lookup, S.cacheL2, I.xCache, I.cacheManager, 64, 1, ' cache-manager'),
    ],
  },
  {
    goal: 'session read with sliding expiry ≥ 1.0× raw ioredis GET at c=64',
    costOf: [S.sessionRead, [I.xSession, I.get]],
    evaluate: (lookup) => [
      getPair(lookup, S.sessionRead, I.xSession, 1, ceilings(lookup, S.sessionRead, I.xSession)),
    ],
  },
  {
    goal: 'limit() ≥ 1.3× rate-limiter-flexible consume() at c=64',
    costOf: [S.rateLimitAllowed, [I.xRateLimit, I.rateLimiterFlexible]],
    evaluate: (lookup) => [compare(lookup, S.rateLimitAllowed, I.xRateLimit, I.rateLimiterFlexible, 64, 1.3)],
  },
  {
    goal: 'two policies in one call ≥ 2× RateLimiterUnion of two at c=64',
    costOf: [S.rateLimitTwoPolicies, [I.xRateLimit, I.rateLimiterFlexible]],
    evaluate: (lookup) => [
      compare(lookup, S.rateLimitTwoPolicies, I.xRateLimit, I.rateLimiterFlexible, 64, 2),
    ],
  },
  {
    goal: 'lock acquire+release ≥ 1.1× redis-semaphore at c=64',
    costOf: [S.lockAcquire, [I.xLock, I.redisSemaphore]],
    evaluate: (lookup) => [compare(lookup, S.lockAcquire, I.xLock, I.redisSemaphore, 64, 1.1)],
  },
  {
    goal: 'contended lock, 32 workers, no pause: ≥ 1.25× best peer sections/s, p99 wait ≤ 1/5 of its',
    evaluate: contended(S.lockContended, 1.25),
  },
  {
    goal: 'contended lock, 32 workers, 1 ms between sections: ≥ 3× best peer sections/s, p99 wait ≤ 1/5 of its',
    evaluate: contended(S.lockContendedThink, 3),
  },
  {
    goal: 'pub/sub publish → handler ≥ 1.0× raw ioredis at c=64',
    costOf: [S.pubsub, [I.xPubSub, I.rawPubSub]],
    evaluate: (lookup) => [compare(lookup, S.pubsub, I.xPubSub, I.rawPubSub, 64, 1)],
  },
  {
    goal: 'L1 hit ≥ 1M ops/s at c=1',
    costOf: [S.cacheL1, [I.xCache, I.bentocache]],
    evaluate: ({ row }) => {
      const x = row(S.cacheL1, I.xCache, 1)
      return [
        x
          ? {
              value: x.opsPerSec,
              threshold: 1_000_000,
              measured: `${(x.opsPerSec / 1e6).toFixed(2)}M ops/s at c=1 (an empty async call in the harness: ${ceiling(row)})`,
            }
          : missing(1_000_000),
      ]
    },
  },
]

function ceiling(row: Lookup['row']): string {
  const empty = row('raw commands', 'empty async call', 1)
  return empty ? `${(empty.opsPerSec / 1e6).toFixed(2)}M ops/s` : 'not measured'
}

/** a ÷ b measured in the same rounds: the median, and the spread of the rounds beside it. */
function compare(
  lookup: Lookup,
  scenario: string,
  a: string,
  b: string,
  concurrency: number,
  threshold: number,
  label = '',
) {
  const value = lookup.pair(scenario, a, b, concurrency)
  return {
    value,
    threshold,
    measured: `${times(value)}${label} (${lookup.spread(scenario, a, b, concurrency)})`,
  }
}

function ratio(value: number, threshold: number) {
  return { value, threshold, measured: times(value) }
}

/** implementation ÷ raw ioredis GET in the same rounds, with the spread and the ceilings beside it. */
function getPair(lookup: Lookup, scenario: string, implementation: string, threshold: number, more: string) {
  const value = lookup.pair(scenario, implementation, I.get, 64)
  return {
    value,
    threshold,
    measured: `${times(value)} ${I.get} (${lookup.spread(scenario, implementation, I.get, 64)}); ${more}`,
  }
}

function missing(threshold: number) {
  return { value: Number.NaN, threshold, measured: 'not measured' }
}

export function evaluateGoals(results: readonly ScenarioResult[]): GoalOutcome[] {
  const lookup: Lookup = {
    row: (scenario, implementation, concurrency) =>
      results
        .find((result) => result.scenario === scenario)
        ?.rows.find((row) => row.implementation === implementation && row.concurrency === concurrency),
    pair: (scenario, a, b, concurrency) => median(inRound(results, scenario, a, b, concurrency)),
    spread: (scenario, a, b, concurrency) => {
      const ratios = inRound(results, scenario, a, b, concurrency).filter(Number.isFinite)
      if (ratios.length === 0) return 'no rounds'
      return `rounds ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`
    },
  }
  return GOALS.map((goal) => {
    const parts = goal.evaluate(lookup)
    const known = parts.every((part) => Number.isFinite(part.value))
    return {
      goal: goal.goal,
      measured: parts.map((part) => part.measured).join('; '),
      cost: goal.costOf ? costLine(results, ...goal.costOf) : '',
      met: known
        ? parts.every((part) => (part.atMost ? part.value <= part.threshold : part.value >= part.threshold))
        : undefined,
    }
  })
}

function inRound(
  results: readonly ScenarioResult[],
  scenario: string,
  a: string,
  b: string,
  concurrency: number,
): number[] {
  const result = results.find((candidate) => candidate.scenario === scenario)
  const left = result?.series.get(seriesKey(a, concurrency))
  const right = result?.series.get(seriesKey(b, concurrency))
  if (!left || !right) return []
  return left.map((value, round) => value / (right[round] ?? Number.NaN))
}

function costLine(results: readonly ScenarioResult[], scenario: string, implementations: string[]): string {
  const diagnoses = results.find((result) => result.scenario === scenario)?.diagnoses
  if (!diagnoses) return ''
  return implementations
    .map((implementation) => {
      const diagnosis = diagnoses.get(implementation)
      if (!diagnosis) return undefined
      const total = diagnosis.clientCpuUs + diagnosis.serverCpuUs
      return (
        `${implementation} ${total.toFixed(1)} µs ` +
        `(${diagnosis.clientCpuUs.toFixed(1)} + ${diagnosis.serverCpuUs.toFixed(1)})`
      )
    })
    .filter((line) => line !== undefined)
    .join(' vs ')
}
