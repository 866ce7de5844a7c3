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
