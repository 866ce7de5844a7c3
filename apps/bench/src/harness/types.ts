import type { RedisServer } from '@x/testkit'
import type { Redis } from 'ioredis'

/** One call of the thing measured. `worker` is the index of the in-flight slot (0..concurrency-1). */
export type Operation = (worker: number, iteration: number) => Promise<unknown>

/** One implementation of one scenario, ready to run. */
export interface Contender {
  /** Names the package: "@x/ratelimit", "rate-limiter-flexible", "ioredis GET", … */
  implementation: string
  operation: Operation
  /** Frees what the contender created (clients, timers). */
  close?: () => Promise<void> | void
}

/** A contender that could not be built (package not built yet, API mismatch, peer incompatibility). */
export interface Unavailable {
  implementation: string
  unavailable: string
}

export type ContenderFactory = (context: BenchContext) => Promise<Contender | Unavailable>

/** A throughput scenario: every contender runs for the same time, at each concurrency, each round. */
export interface ThroughputScenario {
  kind: 'throughput'
  workload: string
  scenario: string
  contenders: ContenderFactory[]
  /** Runs once before the contenders are built (seed keys). */
  prepare?: (context: BenchContext) => Promise<void>
}

/** A one-off measurement with its own table (contended lock, stampede, memory). */
export interface CustomScenario {
  kind: 'custom'
  workload: string
  scenario: string
  run: (context: BenchContext) => Promise<CustomResult>
}

export type Scenario = ThroughputScenario | CustomScenario

export interface CustomResult {
  rows: Row[]
  /** A markdown table (header, separator and rows) shown under the scenario's heading. */
  table?: string[]
  notes?: string[]
}

export interface Settings {
  quick: boolean
  rounds: number
  durationMs: number
  warmupMs: number
  concurrencies: number[]
  contendedMs: number
  contendedWorkers: number
  stampedeReaders: number
  memoryRequests: number
  /** Calls per contender in the cost pass (commands and CPU per call). */
  diagnoseCalls: number
  /** Only run workloads whose name is listed (all when empty). */
  only: string[]
  failover: FailoverSettings
}

/** The failover workload: one hard failover per package on a replicated cluster. */
export interface FailoverSettings {
  /** Run it at all (a --quick run skips it unless `--only failover` names it). */
  run: boolean
  /** Calls in flight on the failing shard. */
  concurrency: number
  /** Load before the measured baseline (connections, JIT). */
  warmupMs: number
  /** The steady span before the kill that defines "normal": throughput median and p99. */
  baselineMs: number
  /** How long throughput must have been back before the case ends. */
  afterRecoveryMs: number
  /** The case ends this long after the kill at the latest (once the cluster is whole). */
  capMs: number
}

export interface BenchContext {
  settings: Settings
  server: RedisServer
  /** The bench's connection: every implementation that accepts an ioredis client gets this one. */
  redis: Redis
  /** A fresh plain ioredis client to the bench server, closed at the end of the run. */
  newClient(): Redis
  /** A key prefix unique to the caller, so scenarios never see each other's keys. */
  prefix(name: string): string
  log(message: string): void
}

/** One line of latest.json. */
export interface Row {
  workload: string
  scenario: string
  implementation: string
  concurrency: number
  opsPerSec: number
  p50Us: number
  p99Us: number
  ratioToGet: number
}

/** One package through a hard failover of its shard (latest.json `failover`). */
export interface FailoverRow {
  implementation: string
  operation: string
  concurrency: number
  /** Median throughput of the 100 ms buckets before the kill (calls answered by Redis). */
  preOpsPerSec: number
  preP99Ms: number
  /** DELAYED_FACTOR × preP99Ms: a call answered by Redis slower than this is delayed. */
  delayedAboveMs: number
  /** Calls that ended between the kill and the end of the case. */
  callsAfter: number
  /** Rejected calls after the kill, by error code. */
  failed: Record<string, number>
  /** Calls answered without Redis after the kill (fail-open, fetcher ran, not delivered, …). */
  degraded: Record<string, number>
  delayed: number
  slowestMs: number
  /** From the kill until the replica answered as master (the test kit's promotedAfterMs). */
  unavailableMs: number
  /** From the kill until a call started after it was answered by Redis; null if none. */
  firstAnswerAfterMs: number | null
  /** From the kill until throughput was back at ≥ 90 % of the median before; null if not within the case. */
  recoveredAfterMs: number | null
}

export interface FailoverReport {
  rows: FailoverRow[]
  table: string[]
  notes: string[]
}

export function isUnavailable(value: Contender | Unavailable): value is Unavailable {
  return 'unavailable' in value
}
