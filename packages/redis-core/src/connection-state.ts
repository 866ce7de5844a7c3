import type { Cluster, Redis } from 'ioredis'
import { probeAddress } from './probe-address.js'
import { redact, redactError } from './redact.js'

type Client = Redis | Cluster

/** What core knows about a client's connection, for errors that say what is wrong. */
export interface ConnectionState {
  /** `host:port` (or the Cluster's seed nodes, comma-separated), never with a password. */
  readonly address: string
  /** True once the client has been ready at least once. */
  everReady: boolean
  /** The last connection-level error: its code (`ECONNREFUSED`, `WRONGPASS`, …) and redacted message. */
  lastError?: { code: string | undefined; message: string }
  /** Set while a Cluster's unexplained failure is being diagnosed (see `probeAddress`). */
  diagnosing?: Promise<void>
}

const states = new WeakMap<Client, ConnectionState>()

/**
 * Starts recording `client`'s connection errors and readiness (idempotent). Only 'ready' and
 * 'error'/'node error' listeners are added; `createRedis` calls it, and `toRedisError(error, client)`
 * reads it. Foreign clients are not watched (an 'error' listener would hide their crashes), so for
 * them only the address is known.
 */
export function watchConnection(client: Client): ConnectionState {
  const existing = states.get(client)
  if (existing) return existing
  const state: ConnectionState = { address: addressOf(client), everReady: client.status === 'ready' }
  states.set(client, state)
  const record = (error: unknown) => {
    // First listener on the client: later listeners (the app's, a logger) get the error scrubbed.
    if (error instanceof Error) redactError(error)
    const code = rootCauseOf(error)
    // "Connection is closed" after an ECONNREFUSED says less: keep the cause of this outage.
    if (code === undefined && state.lastError?.code !== undefined) return
    state.lastError = { code, message: redact(messageOf(error)) }
  }
  client.on('ready', () => {
    state.everReady = true
    state.lastError = undefined
  })
  client.on('error', record)
  // A Cluster reports each node's failure as 'node error'; its 'error' is only the summary.
  if (isClusterClient(client)) {
    let diagnosed = false
    client.on('node error', (error: unknown, key?: string) => {
      record(error)
      // "Connection is closed" hides why: ask the network once, with one TCP connect to that node.
      if (diagnosed || state.everReady || state.lastError?.code !== undefined || typeof key !== 'string')
        return
      diagnosed = true
      const [, host = '', port = ''] = /^(.*):(\d+)$/.exec(key) ?? []
      const timeoutMs = Math.min(client.options.redisOptions?.connectTimeout ?? 2000, 5000)
      state.diagnosing = probeAddress(host.replace(/^\[(.*)\]$/, '$1'), Number(port), timeoutMs).then(
        (code) => {
          if (code !== undefined && state.lastError?.code === undefined) {
            state.lastError = { code, message: `${code} from ${formatHost(host, Number(port))}` }
          }
        },
      )
    })
  }
  return state
}

/** The recorded state, or (for a client core does not watch) what its options tell. */
export function connectionState(client: Client): ConnectionState {
  return states.get(client) ?? { address: addressOf(client), everReady: client.status === 'ready' }
}

/** `host:port` of a server, or the seed nodes of a Cluster. Never includes credentials. */
export function addressOf(client: Client): string {
  if (isClusterClient(client)) {
    const nodes = (client as unknown as { startupNodes?: unknown[] }).startupNodes ?? []
    return nodes.map(nodeAddress).join(',') || 'cluster'
  }
  const options = (client as Redis).options
  if (options.path) return options.path
  if (options.sentinels && options.sentinels.length > 0) {
    return `sentinel ${options.name ?? ''} via ${options.sentinels.map(nodeAddress).join(',')}`
  }
  return formatHost(options.host ?? '127.0.0.1', options.port ?? 6379)
}

/**
 * A short, stable name for what went wrong: the system error code (`ECONNREFUSED`, `ENOTFOUND`,
 * `ETIMEDOUT`) or the first word of a Redis error reply (`WRONGPASS`, `NOAUTH`, `LOADING`).
 */
export function rootCauseOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string' && code !== '') return code
  const first = /^([A-Z][A-Z_]{2,})\b/.exec(messageOf(error))
  if (first) return first[1]
  // ioredis's cluster summary keeps the node's error as lastNodeError.
  const nodeError = (error as { lastNodeError?: unknown }).lastNodeError
  return nodeError === undefined ? undefined : rootCauseOf(nodeError)
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function nodeAddress(node: unknown): string {
  if (typeof node === 'string') return redact(node)
  if (typeof node === 'number') return formatHost('127.0.0.1', node)
  const { host = '127.0.0.1', port = 6379 } = (node ?? {}) as { host?: string; port?: number }
  return formatHost(host, port)
}

function formatHost(host: string, port: number): string {
  // A host option can hold a pasted URL with credentials; what is printed never does.
  const safe = redact(host)
  return safe.includes(':') && !safe.includes('//') ? `[${safe}]:${port}` : `${safe}:${port}`
}

function isClusterClient(client: Client): client is Cluster {
  return (client as { isCluster?: boolean }).isCluster === true
}
