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

export function isUnavailable(value: Contender | Unavailable): value is Unavailable {
  return 'unavailable' in value
}
