import { RedisUnavailableError, TimeoutError, XError } from './errors.js'

const UNAVAILABLE = [
  'Connection is closed',
  "Stream isn't writeable",
  "isn't ready and enableOfflineQueue",
  'Reached the max retries per request',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'connect ETIMEDOUT',
  'Failed to refresh slots cache',
  'None of startup nodes is available',
  'Cluster is disconnected',
  'LOADING',
  'MASTERDOWN',
  'CLUSTERDOWN',
  'TRYAGAIN',
]

/**
 * Maps what ioredis throws when the server is away into typed errors, and leaves real command
 * errors (WRONGTYPE, a Lua error) as they are: callers decide fallbacks on `code`, not on text.
 */
export function toRedisError(error: unknown): unknown {
  if (XError.isInstance(error)) return error
  const message = error instanceof Error ? error.message : String(error)
  if (message.includes('Command timed out')) {
    return new TimeoutError('Redis did not answer within the command timeout', { cause: error })
  }
  if (error instanceof Error && error.name === 'MaxRetriesPerRequestError') {
    return new RedisUnavailableError('Redis connection lost before the command was answered', {
      cause: error,
    })
  }
  if (UNAVAILABLE.some((fragment) => message.includes(fragment))) {
    return new RedisUnavailableError(`Redis is unavailable: ${message}`, { cause: error })
  }
  return error
}

/** True when an error means "Redis is away or slow" rather than "the command was wrong". */
export function isRedisUnavailable(error: unknown): boolean {
  return RedisUnavailableError.isInstance(error) || TimeoutError.isInstance(error)
}
