import type { Cluster, Redis } from 'ioredis'
import { connectionState, rootCauseOf } from './connection-state.js'
import { RedisUnavailableError, TimeoutError, XError } from './errors.js'
import { redactError } from './redact.js'

const UNAVAILABLE = [
  'Connection is closed',
  "Stream isn't writeable",
  "isn't ready and enableOfflineQueue",
  'Reached the max retries per request',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'Failed to refresh slots cache',
  'None of startup nodes is available',
  'Cluster is disconnected',
  'LOADING',
  'MASTERDOWN',
  'CLUSTERDOWN',
  'TRYAGAIN',
  // A wrong or missing password: the connection cannot be used until the configuration is fixed.
  'WRONGPASS',
  'NOAUTH',
  'invalid password',
]

/**
 * ioredis gives up on a Cluster command after `maxRedirections` tries with "Too many Cluster
 * redirections. Last error: <error>". While a slot moves (a failover, a resharding) that last error
 * is a redirection or a "not now" (MOVED, ASK, TRYAGAIN, CLUSTERDOWN, LOADING, MASTERDOWN, READONLY
 * from a demoted master, a closed connection): the shard is unavailable for the moment, and the
 * same command succeeds once the cluster has settled. Any other last error (WRONGTYPE, a Lua error)
 * is the command's own and is returned as it is.
 */
const REDIRECTED =
  /^Too many Cluster redirections\. Last error: (?:[A-Za-z]*Error: )?(MOVED|ASK|TRYAGAIN|CLUSTERDOWN|LOADING|MASTERDOWN|READONLY|Connection is closed)\b/

/**
 * Maps what ioredis throws into typed errors, and removes secrets on the way:
 * - a late reply becomes `TimeoutError`;
 * - a connection that is down, refused, unresolvable or refused our password becomes
 *   `RedisUnavailableError` with `address`, `rootCause` (`ECONNREFUSED`, `ENOTFOUND`, `WRONGPASS`…)
 *   and `neverConnected`, when `client` is given (clients made by `createRedis` also remember the
 *   connection error that made the command fail);
 * - a real command error (WRONGTYPE, a Lua error) is returned as it is, so callers decide on `code`.
 *
 * Every error that passes through is scrubbed in place: AUTH/HELLO arguments, `user:password@` in
 * URLs and the arguments ioredis attaches as `error.command.args` (they may hold values) are removed
 * from the message, the stack and the error's own properties.
 */
export function toRedisError(error: unknown, client?: Redis | Cluster): unknown {
  if (XError.isInstance(error)) return error
  if (!(error instanceof Error)) return error
  redactError(error)
  const message = error.message
  if (message.includes('Command timed out')) {
    const where = client ? ` at ${connectionState(client).address}` : ''
    return new TimeoutError(`Redis${where} did not answer within the command timeout`, { cause: error })
  }
  const redirected = REDIRECTED.exec(message)?.[1]
  if (redirected !== undefined) {
    const facts = details(client, error)
    // The redirection that ran out says more than the client's last connection error.
    const rootCause = redirected === 'Connection is closed' ? facts.rootCause : redirected
    const own = { ...facts, ...(rootCause ? { rootCause } : {}) }
    return new RedisUnavailableError(describe(own, error), { cause: error, ...own })
  }
  if (
    error.name === 'MaxRetriesPerRequestError' ||
    UNAVAILABLE.some((fragment) => message.includes(fragment))
  ) {
    const facts = details(client, error)
    return new RedisUnavailableError(describe(facts, error), { cause: error, ...facts })
  }
  return error
}

/** True when an error means "Redis is away or slow" rather than "the command was wrong". */
export function isRedisUnavailable(error: unknown): boolean {
  return RedisUnavailableError.isInstance(error) || TimeoutError.isInstance(error)
}

interface UnavailableFacts {
  address?: string
  rootCause?: string
  neverConnected?: boolean
}

function details(client: Redis | Cluster | undefined, error: Error | undefined): UnavailableFacts {
  // "Max retries" and "Connection is closed" say nothing of why: the connection's own error does.
  const own = error && error.name !== 'MaxRetriesPerRequestError' ? rootCauseOf(error) : undefined
  if (!client) return own ? { rootCause: own } : {}
  const state = connectionState(client)
  const rootCause = own ?? state.lastError?.code
  return {
    address: state.address,
    neverConnected: !state.everReady,
    ...(rootCause ? { rootCause } : {}),
  }
}

function describe(facts: UnavailableFacts, error: Error): string {
  const where = facts.address ? `Redis at ${facts.address}` : 'Redis'
  const state = facts.neverConnected ? ' (never connected)' : ''
  const why = facts.rootCause ? `: ${facts.rootCause}` : ''
  const detail = error.name === 'MaxRetriesPerRequestError' ? 'connection is down' : error.message
  return `${where} is unavailable${state}${why} (${detail})`
}
