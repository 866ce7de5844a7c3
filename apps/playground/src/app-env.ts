import type { Services } from './services.js'

/** Hono's typing of what every handler can read from `c.var`. */
export interface AppEnv {
  Variables: {
    services: Services
  }
}
