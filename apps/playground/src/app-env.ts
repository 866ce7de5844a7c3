import type { Session } from '@x/session'
import type { Services, SessionData } from './services.js'

export interface Auth {
  token: string
  session: Session<SessionData>
  userId: number
}

/** Hono's typing of what every handler can read from `c.var`. */
export interface AppEnv {
  Variables: {
    services: Services
    /** Resolved once per request by `getAuth` (null: no valid session). */
    auth: Auth | null | undefined
    /** The per-user limit's header fields, merged with the IP's by the IP middleware. */
    userRateLimit: Record<string, string> | undefined
  }
}
