import { keyspace } from '@x/redis-core'
import { tagFor } from './token.js'

/** Key names of a store. Every key of one user shares the hash tag `{tag}`: one Cluster slot. */
export interface SessionKeys {
  /** `prefix:{tag}:s:<id>`, a session hash. */
  session(tag: string, id: string): string
  /** `prefix:{tag}:s:`, for scripts that name sibling sessions in the same slot. */
  sessionPrefix(tag: string): string
  /** `prefix:{tag}:u:<userId>`, a user's index; validates the user id. */
  index(userId: string): string
  /** `prefix:{tag}:u:`, for scripts that name the index from a session's user id. */
  indexPrefix(tag: string): string
}

export function sessionKeys(prefix: string): SessionKeys {
  const keys = keyspace(prefix)
  // Tags and ids come from generateToken or passed parseToken's alphabet check, so the hot path
  // builds keys by concatenation instead of validating them again.
  const sessionPrefix = (tag: string) => `${keys.prefix}:{${tag}}:s:`
  return {
    session: (tag, id) => sessionPrefix(tag) + id,
    sessionPrefix,
    index: (userId) => keys.tagged(tagFor(userId), 'u', userId),
    indexPrefix: (tag) => `${keys.prefix}:{${tag}}:u:`,
  }
}
