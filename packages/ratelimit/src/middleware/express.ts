import { clientKey, forwardingIgnored } from './client-key.js'
import {
  assertMiddlewareOptions,
  decide,
  type MiddlewareOptions,
  PROBLEM_JSON,
  problemDetails,
} from './shared.js'

/** The parts of an Express (or plain Node `http`) request the middleware reads. */
export interface ExpressLikeRequest {
  /** Express's client address (honours `trust proxy`). */
  ip?: string | undefined
  socket?: { remoteAddress?: string | undefined } | undefined
  headers?: Record<string, string | string[] | undefined>
  /** Express's application, to read its `trust proxy` setting. */
  app?: { get(setting: string): unknown } | undefined
}

/** The parts of an Express (or plain Node `http`) response the middleware writes. */
export interface ExpressLikeResponse {
  statusCode: number
  setHeader(name: string, value: string): unknown
  end(body?: string): unknown
}

export type ExpressRateLimitOptions<Request extends ExpressLikeRequest = ExpressLikeRequest> =
  MiddlewareOptions<Request>

/**
 * Express middleware (also plain Node `http` / Connect). The default key is `ipKey(req.ip)`:
 * `req.ip` is the socket address unless Express's `trust proxy` is configured. No runtime import of Express.
 */
export function expressRateLimit<Request extends ExpressLikeRequest = ExpressLikeRequest>(
  options: ExpressRateLimitOptions<Request>,
): (request: Request, response: ExpressLikeResponse, next: (error?: unknown) => void) => void {
  assertMiddlewareOptions(options)
  const defaultKey = clientKey<Request>(
    {
      address: (req) => req.ip ?? req.socket?.remoteAddress,
      ignoredForwarding: (req) => forwardingIgnored(req.headers, Boolean(req.app?.get('trust proxy'))),
      proxyAdvice: "set Express's `app.set('trust proxy', …)` to your proxy hops or addresses.",
    },
    options.ipv6Subnet,
  )
  return (request, response, next) => {
    decide(options, request, defaultKey).then(
      ({ result, headers }) => {
        for (const name in headers) response.setHeader(name, headers[name]!)
        if (!result || result.allowed) return next()
        response.statusCode = 429
        response.setHeader('Content-Type', PROBLEM_JSON)
        response.end(JSON.stringify(options.body ? options.body(result, request) : problemDetails(result)))
      },
      (error: unknown) => next(error),
    )
  }
}
