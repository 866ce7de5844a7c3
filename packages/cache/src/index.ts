export { createCache } from './create-cache.js'
export {
  DecodeError,
  EncodeError,
  FetchTimeoutError,
  InvalidArgumentError,
  RedisUnavailableError,
  TimeoutError,
} from './errors.js'
export type {
  BatchFetcher,
  Cache,
  CacheEvents,
  CacheOptions,
  CacheStats,
  FetchContext,
  Fetcher,
  GetOptions,
  GetOrSetOptions,
  SetManyEntry,
  WriteOptions,
} from './types.js'
