export type { SessionControl, SessionIntegrationOptions } from '../session-control.js'
export { type SessionEnv, sessionMiddleware } from './hono-middleware.js'
