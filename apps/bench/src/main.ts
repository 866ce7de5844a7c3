import { existsSync, readFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { startRedis } from '@x/testkit'
import type { Redis } from 'ioredis'
import { evaluateGoals } from './goals.js'
import { jsonRows, markdown, writeResults } from './harness/report.js'
import { runScenario, type ScenarioResult } from './harness/runner.js'
import { HELP, parseSettings } from './harness/settings.js'
import type { BenchContext, FailoverReport, Row } from './harness/types.js'
import { references } from './workloads/baseline.js'
import { FAILOVER_WORKLOAD, runFailover } from './workloads/failover/index.js'
import { scenarios } from './workloads/index.js'

const RESULTS = fileURLToPath(new URL('../results/', import.meta.url))

async function main(): Promise<void> {
  const settings = parseSettings(process.argv.slice(2))
  if (settings === 'help') {
    process.stdout.write(HELP)
    return
  }
  const startedAt = new Date()
  const loadBefore = loadavg()
  // Our own throwaway server on a free port: never the Redis on 6379.
  const server = await startRedis()
  const clients: Redis[] = []
  const newClient = () => {
    const client = server.client()
    clients.push(client)
    return client
  }
  let counter = 0
  const context: BenchContext = {
    settings,
    server,
    redis: newClient(),
    newClient,
    prefix: (name) => `bench:${name}:${++counter}`,
    log: (message) => process.stdout.write(`${message}\n`),
  }
  const info = await context.redis.info('server')
  const redisVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown'
  context.log(
    `bench: ${settings.quick ? 'quick' : 'full'} run on redis-server ${redisVersion} at ${server.url} ` +
      `(${settings.rounds} rounds × ${settings.durationMs} ms per cell)`,
  )

  const results: ScenarioResult[] = []
  let failover: FailoverReport | undefined
  try {
    for (const scenario of scenarios) {
      if (settings.only.length > 0 && !settings.only.includes(scenario.workload)) continue
      context.log(`${scenario.workload} / ${scenario.scenario}`)
      results.push(await runScenario(scenario, context, references))
    }
    if (settings.only.length === 0 || settings.only.includes(FAILOVER_WORKLOAD)) {
      if (settings.failover.run) failover = await runFailover(context)
      else context.log('failover: skipped in a quick run (--quick --only failover runs a short one)')
    }
  } finally {
    for (const client of clients) client.disconnect()
    await server.stop()
  }

  const finishedAt = new Date()
  const loadAfter = loadavg()
  const cpu = cpus()
  const goals = evaluateGoals(results)
  // The committed full run is what "c=1 must not get slower" compares with.
  const previousFile = `${RESULTS}latest.json`
  const previous = existsSync(previousFile)
    ? (JSON.parse(readFileSync(previousFile, 'utf8')) as { rows: Row[] }).rows
    : []
  const report = markdown(
    results,
    goals,
    {
      startedAt,
      finishedAt,
      mode: settings.quick ? 'Quick (smoke)' : 'Full',
      machine:
        `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}; load average ${loadBefore[0]!.toFixed(2)} ` +
        `before, ${loadAfter[0]!.toFixed(2)} after (other processes share these cores)`,
      redisVersion,
      nodeVersion: process.versions.node,
      settingsLine:
        `${settings.rounds} round(s) × ${settings.durationMs} ms per cell after ${settings.warmupMs} ms warm-up, ` +
        `concurrency ${settings.concurrencies.join(' and ')} on one connection`,
    },
    previous,
    failover,
  )
  // A smoke run must not overwrite the committed figures of the last full run.
  const name = settings.quick ? 'quick' : 'latest'
  writeResults(RESULTS, {
    [`${name}.md`]: report,
    [`${name}.json`]: `${JSON.stringify(
      { rows: jsonRows(results), ...(failover ? { failover: failover.rows } : {}) },
      null,
      2,
    )}\n`,
  })
  context.log('')
  for (const goal of goals) {
    context.log(`${goal.met === undefined ? '–  ' : goal.met ? 'ok ' : 'NO '} ${goal.goal}: ${goal.measured}`)
  }
  context.log(`\nwrote ${RESULTS}${name}.md and ${name}.json`)
}

main().then(
  // Some peers keep timers or sockets open after their last use; the results are written, so leave.
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    )
    process.exit(1)
  },
)
