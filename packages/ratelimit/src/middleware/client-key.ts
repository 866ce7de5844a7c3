import { ipKey } from '../ip-key.js'

/** The key of requests whose client address is unknown (no socket: an edge runtime, a test call). */
export const UNKNOWN_CLIENT_KEY = 'unknown-client' as const

/** What an adapter tells the default key about a request. */
export interface ClientAddressSource<Request> {
  /** The client address as the framework sees it (its proxy settings applied), if any. */
  address(request: Request): string | undefined
  /**
   * True when the request carries `X-Forwarded-For` or `Forwarded` that the framework did not use
   * for `address` (no trusted proxy configured, or a header it never reads).
   */
  ignoredForwarding(request: Request): boolean
  /** The framework's name and how to trust a proxy in it, for the warning. */
  proxyAdvice: string
}

type Headers = Record<string, string | string[] | undefined> | undefined

/** `X-Forwarded-For` ignored unless `trusted`; `Forwarded` (RFC 7239) is read by no framework here. */
export function forwardingIgnored(headers: Headers, trusted: boolean): boolean {
  if (!headers) return false
  if (headers['x-forwarded-for'] !== undefined) return !trusted
  return headers.forwarded !== undefined
}

const warn = (message: string) => console.warn(`@x/ratelimit: ${message}`)

/**
 * The default key of the middleware: the client address through `ipKey` (IPv6 grouped by
 * `ipv6Subnet`, IPv4-mapped addresses as IPv4). Each warning below is printed once per middleware:
 * - a forwarding header the framework ignores: behind a proxy every client then shares the proxy's
 *   address, and one bucket (the most common production failure of IP rate limits);
 * - no client address: such requests share one bucket, `unknown-client`, so that they are still
 *   limited (a missing address must not lift the limit, nor fail every request).
 */
export function clientKey<Request>(
  source: ClientAddressSource<Request>,
  ipv6Subnet: number | false | undefined,
): (request: Request) => string {
  // Validates ipv6Subnet when the middleware is created, not on the first request.
  ipKey('::', { ipv6Subnet })
  let warnedForwarding = false
  let warnedUnknown = false
  return (request) => {
    if (!warnedForwarding && source.ignoredForwarding(request)) {
      warnedForwarding = true
      warn(
        `a request carries X-Forwarded-For or Forwarded, but the client address comes from the socket. ` +
          `Behind a proxy every client shares the proxy's address and one rate-limit bucket: ${source.proxyAdvice}`,
      )
    }
    const address = source.address(request)
    if (address) return ipKey(address, { ipv6Subnet })
    if (!warnedUnknown) {
      warnedUnknown = true
      warn(
        `a request has no client address (an edge runtime or a test call without a socket); such requests share ` +
          `the key "${UNKNOWN_CLIENT_KEY}". Pass a key() option that reads the address your platform provides.`,
      )
    }
    return UNKNOWN_CLIENT_KEY
  }
}
