import { defineError } from '@x/redis-core'

export {
  DecodeError,
  EncodeError,
  InvalidArgumentError,
  RedisUnavailableError,
  TimeoutError,
} from '@x/redis-core'

/**
 * The fetcher did not finish within its hard timeout (`hardTimeoutMs`) and no stale value could be
 * served instead. Its `signal` was aborted with this error. Not a Redis timeout (that is TimeoutError).
 */
export class FetchTimeoutError extends defineError<
  'E_CACHE_FETCH_TIMEOUT',
  { key: string; timeoutMs: number }
>('E_CACHE_FETCH_TIMEOUT', 'FetchTimeoutError') {}
