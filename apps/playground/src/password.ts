import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'

const keyLength = 32
let derivations = 0

function derive(password: string, salt: Buffer): Promise<Buffer> {
  derivations++
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keyLength, (error, key) => (error ? reject(error) : resolve(key)))
  })
}

/** How many scrypt derivations this process ran: lets tests check that every login costs one. */
export function passwordDerivations(): number {
  return derivations
}

/** `scrypt$<salt>$<key>` in base64url. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16)
  const key = await derive(password, salt)
  return `scrypt$${salt.toString('base64url')}$${key.toString('base64url')}`
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, salt, key] = stored.split('$')
  if (scheme !== 'scrypt' || !salt || !key) return false
  const expected = Buffer.from(key, 'base64url')
  const actual = await derive(password, Buffer.from(salt, 'base64url'))
  return expected.length === actual.length && timingSafeEqual(expected, actual)
}

// A hash of nothing anyone knows, with the same parameters as the real ones: an unknown e-mail is
// checked against it, so it costs the same derivation as a known one.
const dummySalt = randomBytes(16).toString('base64url')
const dummyHash = `scrypt$${dummySalt}$${randomBytes(keyLength).toString('base64url')}`

/**
 * Checks a login: the password is derived exactly once whether or not the account exists, so the
 * answer time does not tell which e-mails have accounts.
 */
export async function checkCredentials(
  credentials: { id: number; passwordHash: string } | null,
  password: string,
): Promise<number | null> {
  const matches = await verifyPassword(password, credentials?.passwordHash ?? dummyHash)
  return credentials && matches ? credentials.id : null
}
