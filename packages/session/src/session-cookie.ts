import { createHmac, timingSafeEqual } from 'node:crypto'
import { InvalidArgumentError } from '@x/redis-core'

export type SameSite = 'Lax' | 'Strict' | 'None'

export interface SessionCookieOptions {
  /**
   * Cookie name (without the `__Host-` prefix).
   * @default 'sid'
   */
  name?: string
  /**
   * Prefix the name with `__Host-`: browsers then accept the cookie only with `Secure`, `Path=/`
   * and no `Domain`, so a subdomain cannot plant or overwrite it.
   * @default false
   */
  hostPrefix?: boolean
  /** @default true */
  secure?: boolean
  /** @default true */
  httpOnly?: boolean
  /** @default 'Lax' */
  sameSite?: SameSite
  /** @default '/' */
  path?: string
  /** Domain attribute; not allowed with `hostPrefix`. @default none (host-only) */
  domain?: string
  /**
   * Lifetime in milliseconds (sent as `Max-Age` in seconds). Usually the store's `absoluteTimeoutMs`.
   * @default none (a browser-session cookie)
   */
  maxAgeMs?: number
  /**
   * HMAC-SHA256 signing keys (at least 32 bytes each). The first signs; all verify, so a new key
   * goes first and the old one stays until the cookies it signed have expired.
   * @default none (unsigned: the session token is already unguessable)
   */
  keys?: ReadonlyArray<string | Buffer>
}

/** Anything with headers: a fetch `Request`, a Hono context's `c.req.raw`, a Fastify or Node request. */
export type HeadersSource =
  | Request
  | Headers
  | { headers: Headers | Record<string, string | string[] | undefined> }

export interface SessionCookie {
  /** The full cookie name, with `__Host-` when enabled. */
  readonly name: string
  /** A `Set-Cookie` header value carrying `value` (signed when keys are set). */
  serialize(value: string, options?: { maxAgeMs?: number }): string
  /** A `Set-Cookie` header value that deletes the cookie. */
  serializeClear(): string
  /** The verified value from a `Cookie` header, or null (absent, malformed, bad signature). */
  parse(cookieHeader: string | null | undefined): string | null
  /** `parse` on the `Cookie` header of a request or headers object. */
  read(source: HeadersSource): string | null
  /** Appends the `Set-Cookie` header for `value` to response headers. */
  set(headers: Headers, value: string, options?: { maxAgeMs?: number }): void
  /** Appends the deleting `Set-Cookie` header to response headers. */
  clear(headers: Headers): void
}

// RFC 6265 cookie-octet: no controls, whitespace, DQUOTE, comma, semicolon or backslash.
const COOKIE_VALUE = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/**
 * A framework-neutral session cookie with secure defaults (HttpOnly, Secure, SameSite=Lax,
 * Path=/), optional `__Host-` prefix and optional HMAC signing with key rotation. Works on plain
 * header strings, so it fits Hono, Fastify, Express or a bare fetch handler.
 */
export function createSessionCookie(options: SessionCookieOptions = {}): SessionCookie {
  if ('maxAge' in options) throw new InvalidArgumentError('option maxAge was renamed maxAgeMs')
  const baseName = options.name ?? 'sid'
  if (!COOKIE_NAME.test(baseName))
    throw new InvalidArgumentError(`invalid cookie name ${JSON.stringify(baseName)}`)
  const hostPrefix = options.hostPrefix ?? false
  const name = hostPrefix ? `__Host-${baseName}` : baseName
  const secure = options.secure ?? true
  const httpOnly = options.httpOnly ?? true
  const sameSite = options.sameSite ?? 'Lax'
  const path = options.path ?? '/'
  const domain = options.domain
  if (!['Lax', 'Strict', 'None'].includes(sameSite)) {
    throw new InvalidArgumentError(`sameSite must be Lax, Strict or None, got ${String(sameSite)}`)
  }
  if (sameSite === 'None' && !secure) throw new InvalidArgumentError('sameSite None requires secure')
  if (hostPrefix && (!secure || path !== '/' || domain !== undefined)) {
    throw new InvalidArgumentError('the __Host- prefix requires secure, path "/" and no domain')
  }
  if (!COOKIE_VALUE.test(path) || (domain !== undefined && !COOKIE_VALUE.test(domain))) {
    throw new InvalidArgumentError('path and domain must be valid cookie attribute values')
  }
  const defaultMaxAge = options.maxAgeMs === undefined ? undefined : checkMaxAge(options.maxAgeMs)
  const keys = (options.keys ?? []).map((key, index) => {
    const bytes = typeof key === 'string' ? Buffer.from(key) : key
    if (!Buffer.isBuffer(bytes) || bytes.length < 32) {
      throw new InvalidArgumentError(`keys[${index}] must be at least 32 bytes`)
    }
    return bytes
  })
  if (options.keys !== undefined && keys.length === 0) {
    throw new InvalidArgumentError('keys must hold at least one key when given')
  }

  const sign = (value: string, key: Buffer) =>
    createHmac('sha256', key).update(`${name}=${value}`).digest('base64url')

  const verify = (raw: string): string | null => {
    if (keys.length === 0) return raw
    const dot = raw.lastIndexOf('.')
    if (dot <= 0) return null
    const value = raw.slice(0, dot)
    const given = Buffer.from(raw.slice(dot + 1))
    let valid = false
    // Every key is tried, so the time taken does not tell which key (if any) matched.
    for (const key of keys) {
      const expected = Buffer.from(sign(value, key))
      if (expected.length === given.length && timingSafeEqual(expected, given)) valid = true
    }
    return valid ? value : null
  }

  const attributes = (maxAge: number | undefined) => {
    const parts = [`Path=${path}`]
    if (domain !== undefined) parts.push(`Domain=${domain}`)
    if (maxAge !== undefined) {
      parts.push(`Max-Age=${Math.floor(maxAge / 1000)}`)
      parts.push(`Expires=${new Date(Date.now() + maxAge).toUTCString()}`)
    }
    if (httpOnly) parts.push('HttpOnly')
    if (secure) parts.push('Secure')
    parts.push(`SameSite=${sameSite}`)
    return parts.join('; ')
  }

  const cookie: SessionCookie = {
    name,
    serialize(value, serializeOptions = {}) {
      if (typeof value !== 'string' || value.length === 0 || !COOKIE_VALUE.test(value)) {
        throw new InvalidArgumentError('cookie value must be a non-empty string of cookie-safe characters')
      }
      const maxAge =
        serializeOptions.maxAgeMs === undefined ? defaultMaxAge : checkMaxAge(serializeOptions.maxAgeMs)
      const signed = keys[0] ? `${value}.${sign(value, keys[0])}` : value
      return `${name}=${signed}; ${attributes(maxAge)}`
    },
    serializeClear() {
      return `${name}=; ${attributes(0).replace(/Expires=[^;]+/, 'Expires=Thu, 01 Jan 1970 00:00:00 GMT')}`
    },
    parse(cookieHeader) {
      if (typeof cookieHeader !== 'string' || cookieHeader.length === 0) return null
      // Several cookies may share the name (another path or a planted one): take the first valid.
      for (const pair of cookieHeader.split(';')) {
        const eq = pair.indexOf('=')
        if (eq === -1 || pair.slice(0, eq).trim() !== name) continue
        let raw = pair.slice(eq + 1).trim()
        if (raw.startsWith('"') && raw.endsWith('"') && raw.length >= 2) raw = raw.slice(1, -1)
        if (raw.length === 0 || raw.length > 4096 || !COOKIE_VALUE.test(raw)) continue
        const value = verify(raw)
        if (value !== null) return value
      }
      return null
    },
    read(source) {
      return cookie.parse(cookieHeaderOf(source))
    },
    set(headers, value, setOptions) {
      headers.append('Set-Cookie', cookie.serialize(value, setOptions))
    },
    clear(headers) {
      headers.append('Set-Cookie', cookie.serializeClear())
    },
  }
  return cookie
}

function checkMaxAge(maxAge: number): number {
  if (typeof maxAge !== 'number' || !Number.isFinite(maxAge) || maxAge < 0) {
    throw new InvalidArgumentError(
      `maxAgeMs must be a finite number of milliseconds >= 0, got ${String(maxAge)}`,
    )
  }
  return maxAge
}

function cookieHeaderOf(source: HeadersSource): string | null {
  const headers = source instanceof Headers ? source : source.headers
  if (headers instanceof Headers) return headers.get('cookie')
  const value = headers.cookie
  return Array.isArray(value) ? value.join('; ') : (value ?? null)
}
