import type { Settings } from './types.js'

const HELP = `Usage: pnpm bench [--quick] [--only workload,workload] [--rounds N] [--duration MS]

  --quick          smoke run of a few seconds (short cells, one round)
  --only LIST      run only these workloads: baseline, ratelimit, lock, cache, session, pubsub, memory,
                   observability, failover (a --quick run skips failover unless --only names it)
  --rounds N       rounds per scenario and concurrency (default 6)
  --duration MS    measured time per cell (default 600)
`

/** Presets: a full run stays under 10 minutes on a shared 2-core machine; --quick takes seconds. */
export function parseSettings(argv: readonly string[]): Settings | 'help' {
  const quick = argv.includes('--quick')
  const settings: Settings = quick
    ? {
        quick,
        rounds: 1,
        durationMs: 60,
        warmupMs: 20,
        concurrencies: [1, 64],
        contendedMs: 250,
        contendedWorkers: 32,
        stampedeReaders: 1000,
        memoryRequests: 2_000,
        diagnoseCalls: 300,
        only: [],
        failover: {
          run: false,
          concurrency: 16,
          warmupMs: 300,
          baselineMs: 1000,
          afterRecoveryMs: 0,
          capMs: 15_000,
        },
      }
    : {
        quick,
        rounds: 6,
        durationMs: 600,
        warmupMs: 150,
        concurrencies: [1, 64],
        contendedMs: 3000,
        contendedWorkers: 32,
        stampedeReaders: 1000,
        memoryRequests: 10_000,
        diagnoseCalls: 3_000,
        only: [],
        failover: {
          run: true,
          concurrency: 16,
          warmupMs: 1000,
          baselineMs: 3000,
          afterRecoveryMs: 1000,
          capMs: 30_000,
        },
      }
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index]!
    const value = () => {
      const next = argv[++index]
      if (next === undefined) throw new Error(`${argument} needs a value\n\n${HELP}`)
      return next
    }
    if (argument === '--' || argument === '--quick') continue
    if (argument === '--help' || argument === '-h') return 'help'
    if (argument === '--only') settings.only = value().split(',').filter(Boolean)
    else if (argument === '--rounds') settings.rounds = positiveInteger(argument, value())
    else if (argument === '--duration') settings.durationMs = positiveInteger(argument, value())
    else throw new Error(`unknown argument ${argument}\n\n${HELP}`)
  }
  // A failover takes seconds (a cluster to start, a master to declare dead): a smoke run does it
  // only when asked by name, in its short form.
  if (settings.only.includes('failover')) settings.failover.run = true
  return settings
}

export { HELP }

function positiveInteger(name: string, text: string): number {
  const number = Number(text)
  if (!Number.isInteger(number) || number <= 0)
    throw new Error(`${name} must be a positive integer, got ${text}`)
  return number
}
