import * as crypto from 'node:crypto'
import { createHash } from 'node:crypto'
import { randomId } from '@x/redis-core'

// Sizes in characters of randomId's URL-safe alphabet (6 bits each): the public id needs to be
// unique (96 bits), the secret is the credential (258 bits).
const TAG_CHARS = 6
const ID_CHARS = 16
const SECRET_CHARS = 43

// tag . id . secret. The exact shape is checked here so malformed input never reaches Redis.
const TOKEN = new RegExp(
  `^([A-Za-z0-9_-]{${TAG_CHARS}})\\.([A-Za-z0-9_-]{${ID_CHARS}})\\.([A-Za-z0-9_-]{${SECRET_CHARS}})$`,
)
const PUBLIC_ID = new RegExp(`^([A-Za-z0-9_-]{${TAG_CHARS}})\\.([A-Za-z0-9_-]{${ID_CHARS}})$`)

/** A token split into the part that names the session and the part that proves possession. */
export interface ParsedToken {
  /** Cluster hash tag derived from the user id: the session and its user's index share a slot. */
  tag: string
  /** Random part of the public id; the session key's last segment. */
  id: string
  /** `tag.id`: safe to log and to show in a device list, useless without the secret. */
  publicId: string
  /** SHA-256 of the secret, base64url: the only form of the secret Redis ever sees. */
  digest: string
}

/** The hash tag for a user: a short hash, so user ids with any characters land on a spread of slots. */
export function tagFor(userId: string): string {
  return createHash('sha256').update(userId).digest('base64url').slice(0, TAG_CHARS)
}

// crypto.hash (Node >= 20.12) is a one-shot digest about three times cheaper than createHash;
// digestOf runs on every session read.
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'base64url') => string }).hash

export function digestOf(secret: string): string {
  return oneShot
    ? oneShot('sha256', secret, 'base64url')
    : createHash('sha256').update(secret).digest('base64url')
}

/** A new token for a user: `tag.id.secret`. */
export function generateToken(userId: string): { token: string; parsed: ParsedToken } {
  return generateTokenForTag(tagFor(userId))
}

/** A new token in the slot of `tag` (rotation keeps the user's tag). */
export function generateTokenForTag(tag: string): { token: string; parsed: ParsedToken } {
  const id = randomId(ID_CHARS)
  const secret = randomId(SECRET_CHARS)
  return {
    token: `${tag}.${id}.${secret}`,
    parsed: { tag, id, publicId: `${tag}.${id}`, digest: digestOf(secret) },
  }
}

/** Parses a token, or returns null for anything that is not one (wrong type, shape, length). */
export function parseToken(token: unknown): ParsedToken | null {
  if (typeof token !== 'string' || token.length !== TAG_CHARS + ID_CHARS + SECRET_CHARS + 2) return null
  const match = TOKEN.exec(token)
  if (!match) return null
  const [, tag, id, secret] = match as unknown as [string, string, string, string]
  return { tag, id, publicId: `${tag}.${id}`, digest: digestOf(secret) }
}

/** Parses a public id (`tag.id`) as listed by `listForUser`, or returns null. */
export function parsePublicId(publicId: unknown): { tag: string; id: string } | null {
  if (typeof publicId !== 'string') return null
  const match = PUBLIC_ID.exec(publicId)
  if (!match) return null
  return { tag: match[1]!, id: match[2]! }
}
