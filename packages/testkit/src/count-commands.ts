import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { type Cluster, Redis } from 'ioredis'

type Client = Redis | Cluster

export interface CommandCount<T> {
  /** What `fn` returned. */
  result: T
  /** Commands the server(s) executed for this client while `fn` ran. */
  commands: number
  /** The same, per lower-case command name: `{ evalsha: 1 }`. */
  byName: Record<string, number>
  /** The command names in the order the servers executed them (per node on a Cluster). */
  names: string[]
}

interface Probe {
  /** `host:port` of the node this probe watches. */
  server: string
  monitor: Redis
  lines: Array<{ source: string; name: string; args: string[] }>
  marker: Redis
}

/**
 * Runs `fn` and counts the commands that `client`'s own connections made the server execute, with
 * MONITOR on every node, filtered by the client's socket addresses: exact on a server and on a
 * Cluster even while other files share the server (INFO commandstats counts everyone), and it sees
 * what really reached Redis (an EVALSHA and its NOSCRIPT fallback EVAL, a pipeline's commands).
 * Commands run inside Lua scripts are not counted. After `fn`, a marker sent through each node
 * after the last reply proves that MONITOR delivered everything, so no wait is timed.
 */
export function countCommands<T>(client: Client, fn: () => T | Promise<T>): Promise<CommandCount<Awaited<T>>>
/**
 * @deprecated Counts at the client (patches `sendCommand`), which misses what ioredis sends on its
 * own and needs a try/finally; use `countCommands(client, fn)`.
 */
export function countCommands(client: Client): CommandRecorder
export function countCommands<T>(
  client: Client,
  fn?: () => T | Promise<T>,
): Promise<CommandCount<Awaited<T>>> | CommandRecorder {
  return fn ? monitorCommands(client, fn) : recordSentCommands(client)
}

async function monitorCommands<T>(
  client: Client,
  fn: () => T | Promise<T>,
): Promise<CommandCount<Awaited<T>>> {
  await ensureReady(client)
  const nodes = connectionsOf(client)
  const probes = await Promise.all(nodes.map((node) => startProbe(node)))
  let result: Awaited<T>
  try {
    result = await fn()
    await Promise.all(probes.map(flush))
  } finally {
    for (const probe of probes) {
      probe.monitor.disconnect()
      probe.marker.disconnect()
    }
  }
  // Read the client's local addresses after fn: a Cluster connects to nodes lazily. Per node: one
  // local port may serve connections to two nodes, so the probe's own marker on node A can share its
  // address with the client's connection to node B.
  const names: string[] = []
  for (const probe of probes) {
    const sources = new Set(
      connectionsOf(client)
        .filter((connection) => serverOf(connection) === probe.server)
        .map(localAddress)
        .filter((address) => address !== undefined),
    )
    for (const line of probe.lines) if (sources.has(line.source)) names.push(line.name)
  }
  const byName: Record<string, number> = {}
  for (const name of names) byName[name] = (byName[name] ?? 0) + 1
  return { result, commands: names.length, byName, names }
}

/**
 * Connects the client, and on a Cluster every node connection, before counting: a node connection
 * made on first use would add its handshake (HELLO, INFO) to the count.
 */
async function ensureReady(client: Client): Promise<void> {
  if (client.status === 'wait') await client.connect()
  else if (client.status !== 'ready') await client.ping()
  if (!(client as { isCluster?: boolean }).isCluster) return
  await Promise.all(
    (client as Cluster).nodes('all').map((node) => (node.status === 'ready' ? undefined : node.ping())),
  )
}

function connectionsOf(client: Client): Redis[] {
  return (client as { isCluster?: boolean }).isCluster ? (client as Cluster).nodes('all') : [client as Redis]
}

function serverOf(connection: Redis): string {
  return `${connection.options.host}:${connection.options.port}`
}

function localAddress(connection: Redis): string | undefined {
  const stream = (connection as unknown as { stream?: { localAddress?: string; localPort?: number } }).stream
  if (!stream?.localPort) return undefined
  return `${stream.localAddress}:${stream.localPort}`
}

async function startProbe(node: Redis): Promise<Probe> {
  const { host, port, username, password } = node.options
  const settings = { host, port, username, password, maxRetriesPerRequest: 1 }
  // Not ioredis's monitor(): it enters monitoring mode a microtask after MONITOR's OK, so on a busy
  // server the lines that arrive in the same read as the OK are taken for replies ("Command queue
  // state error"), and monitor() rejects with that error. Those lines precede fn: ignoring is right.
  const monitor = new Redis({ ...settings, monitor: true })
  monitor.on('error', () => {})
  const lines: Probe['lines'] = []
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    lines.push({ source, name: String(args[0]).toLowerCase(), args })
  })
  await monitoring(monitor).catch((error: unknown) => {
    monitor.disconnect()
    throw error
  })
  const marker = new Redis({ ...settings, lazyConnect: true })
  marker.on('error', () => {})
  return { server: serverOf(node), monitor, lines, marker }
}

/** Waits for the `monitoring` status only: `events.once` would also reject on any `error` event. */
function monitoring(monitor: Redis): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      monitor.off('monitoring', done)
      reject(new Error('countCommands: MONITOR did not start within 10 s'))
    }, 10_000)
    function done() {
      clearTimeout(timer)
      resolve()
    }
    monitor.once('monitoring', done)
  })
}

/** Sends a marker after fn's last reply and waits until MONITOR shows it: everything before it arrived. */
async function flush(probe: Probe): Promise<void> {
  const token = `countCommands-${randomBytes(6).toString('hex')}`
  const seen = () => probe.lines.some((line) => line.name === 'echo' && line.args[1] === token)
  await probe.marker.echo(token)
  const bound = AbortSignal.timeout(10_000)
  while (!seen()) {
    await once(probe.monitor, 'monitor', { signal: bound }).catch(() => {
      throw new Error('countCommands: MONITOR did not deliver its marker within 10 s')
    })
  }
}

export interface CommandRecorder {
  count(): number
  names(): string[]
  reset(): void
  restore(): void
}

function recordSentCommands(client: Client): CommandRecorder {
  const names: string[] = []
  const original = client.sendCommand.bind(client)
  const patched = (command: { name: string }, ...rest: unknown[]) => {
    names.push(command.name)
    return (original as (...args: unknown[]) => unknown)(command, ...rest)
  }
  ;(client as unknown as { sendCommand: typeof patched }).sendCommand = patched
  return {
    count: () => names.length,
    names: () => names.slice(),
    reset: () => {
      names.length = 0
    },
    restore: () => {
      ;(client as unknown as { sendCommand: typeof original }).sendCommand = original
    },
  }
}
