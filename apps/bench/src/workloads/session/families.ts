import type { ContenderFactory } from '../../harness/types.js'

/** A session read as a request handler does it: load the session and slide its idle expiry. */
export interface SessionFamily {
  implementation: string
  read: ContenderFactory
}

export const SESSION_COUNT = 1000
export const IDLE_TIMEOUT_MS = 30 * 60_000

/** What an app keeps in a session besides the user id (~100 bytes, like the cache values). */
export const SESSION_DATA = {
  userId: 'user-42',
  roles: ['admin', 'editor'],
  theme: 'dark',
  csrf: 'c5b8c8b3a1709f51e4',
}
