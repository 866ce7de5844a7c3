import type { Redis } from 'ioredis'
import type { Operation } from './types.js'

export interface Diagnosis {
  /** Commands the server executed per call, by name (from INFO commandstats). */
  commandsPerCall: Record<string, number>
  /** Server CPU (user + system) per call, in µs: command execution plus networking. */
  serverCpuUs: number
  /** Of which inside Lua scripts (EVALSHA and EVAL execution time, INFO commandstats), per call, in µs. */
  scriptUs: number
  /** This process's CPU (user + system) per call, in µs: the JS cost of the client side. */
  clientCpuUs: number
}

/**
 * Runs `calls` operations with `concurrency` in flight and reads what they cost: Redis commands
 * per call and CPU on both sides. The bench is the only client of its server, so the server-wide
 * counters are ours (CONFIG RESETSTAT before; INFO's own calls are left out).
 */
export async function diagnose(
  redis: Redis,
  operation: Operation,
  calls: number,
  concurrency: number,
): Promise<Diagnosis> {
  await redis.config('RESETSTAT')
  const serverBefore = serverCpu(await redis.info('cpu'))
  const clientBefore = process.cpuUsage()
  let next = 0
  await Promise.all(
    Array.from({ length: concurrency }, async (_, slot) => {
      while (next < calls) {
        const iteration = next++
        try {
          await operation(slot, iteration)
        } catch {
          // Failures are reported by the measured rounds; here only the cost counts.
        }
      }
    }),
  )
  const client = process.cpuUsage(clientBefore)
  const serverAfter = serverCpu(await redis.info('cpu'))
  const stats = await redis.info('commandstats')
  const commandsPerCall = perCall(parseCounts(stats), calls)
  let scriptMicros = 0
  for (const match of stats.matchAll(/^cmdstat_(?:evalsha|eval):calls=\d+,usec=(\d+)/gm)) {
    scriptMicros += Number(match[1])
  }
  return {
    scriptUs: scriptMicros / calls,
    commandsPerCall,
    serverCpuUs: ((serverAfter - serverBefore) * 1e6) / calls,
    clientCpuUs: (client.user + client.system) / calls,
  }
}

/** Calls per command name since the last CONFIG RESETSTAT (the bench's own INFO and CONFIG left out). */
export async function commandCounts(redis: Redis): Promise<Record<string, number>> {
  return parseCounts(await redis.info('commandstats'))
}

function parseCounts(stats: string): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const match of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    const name = match[1]!
    if (name === 'info' || name === 'config') continue
    counts[name] = Number(match[2])
  }
  return counts
}

export function perCall(counts: Record<string, number>, calls: number): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).map(([name, count]) => [name, count / calls]))
}

function serverCpu(info: string): number {
  const user = Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1] ?? Number.NaN)
  const system = Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1] ?? Number.NaN)
  return user + system
}

export function formatCommands(commands: Record<string, number>): string {
  const entries = Object.entries(commands)
    .filter(([, count]) => count >= 0.005)
    .sort((a, b) => b[1] - a[1])
  if (entries.length === 0) return 'none'
  const total = entries.reduce((sum, [, count]) => sum + count, 0)
  return `${total.toFixed(2)} (${entries.map(([name, count]) => `${name} ${count.toFixed(2)}`).join(', ')})`
}
