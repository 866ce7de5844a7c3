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
 * Express middleware (also plain Node `http` / Connect). The default key is `req.ip`, which is the
 * socket address unless Express's `trust proxy` is configured. No runtime import of Express.
 */
export function expressRateLimit<Request extends ExpressLikeRequest = ExpressLikeRequest>(
  options: ExpressRateLimitOptions<Request>,
): (request: Request, response: ExpressLikeResponse, next: (error?: unknown) => void) => void {
  assertMiddlewareOptions(options)
  return (request, response, next) => {
    decide(options, request, (req) => req.ip ?? req.socket?.remoteAddress).then(
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
