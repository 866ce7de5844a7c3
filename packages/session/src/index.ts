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
  type ExpressSessionStoreMethods,
  type ExpressSessionStoreOptions,
} from './express-store.js'
export {
  createSessionCookie,
  type HeadersSource,
  type SameSite,
  type SessionCookie,
  type SessionCookieOptions,
} from './session-cookie.js'
export {
  type CreateOptions,
  createSessionStore,
  type DestroyForUserOptions,
  type DeviceInfo,
  type RotateOptions,
  type Session,
  type SessionChange,
  type SessionData,
  type SessionInfo,
  type SessionStore,
  type SessionStoreOptions,
  type UpdateOptions,
} from './session-store.js'
