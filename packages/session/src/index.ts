export {
  DecodeError,
  EncodeError,
  InvalidArgumentError,
  RedisUnavailableError,
  SessionConflictError,
  SessionDataTooLargeError,
  TimeoutError,
} from './errors.js'
export {
  createExpressSessionStore,
  type ExpressSessionData,
  type ExpressSessionStoreErrorEvent,
  type ExpressSessionStoreMethods,
  type ExpressSessionStoreOptions,
} from './express-store.js'
export type { SessionStoreOptions } from './options.js'
export {
  createSessionCookie,
  type HeadersSource,
  type SameSite,
  type SessionCookie,
  type SessionCookieOptions,
} from './session-cookie.js'
export { createSessionStore } from './session-store.js'
export type { SessionOutcome, SessionTraceContext } from './trace-context.js'
export type {
  CreateOptions,
  DestroyForUserOptions,
  DeviceInfo,
  ListForUserOptions,
  RotateOptions,
  Session,
  SessionChange,
  SessionData,
  SessionInfo,
  SessionStore,
  SessionStoreEvents,
  SessionStoreStats,
  UpdateOptions,
} from './types.js'
