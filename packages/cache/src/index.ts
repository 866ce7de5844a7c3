export { createCache } from './create-cache.js'
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
