import { clientKey } from './client-key.js'
import {
  assertMiddlewareOptions,
  decide,
  type MiddlewareOptions,
  PROBLEM_JSON,
  problemDetails,
} from './shared.js'

/** The parts of a Hono context the middleware uses. */
export interface HonoLikeContext {
  req: { raw: Request; method: string; path: string; header(name: string): string | undefined }
  env?: unknown
  header(name: string, value: string): unknown
}

export type HonoRateLimitOptions<Context extends HonoLikeContext = HonoLikeContext> =
  MiddlewareOptions<Context>

/**
 * The socket address on @hono/node-server (`c.env.incoming`), Bun (`c.env.requestIP`) and Deno
 * (`c.env.remoteAddr`). Forwarding headers are never read: behind a proxy, pass `key`.
 */
function clientAddress(context: HonoLikeContext): string | undefined {
  const env = context.env as
    | {
        incoming?: { socket?: { remoteAddress?: string } }
        remoteAddr?: { hostname?: string }
        requestIP?: (request: Request) => { address?: string } | null
      }
    | undefined
  if (!env) return undefined
  return (
    env.incoming?.socket?.remoteAddress ??
    env.remoteAddr?.hostname ??
    (typeof env.requestIP === 'function' ? (env.requestIP(context.req.raw)?.address ?? undefined) : undefined)
  )
}

/**
 * Hono middleware (also usable in any fetch-style handler that has a `c.header()`): sets the
 * headers, answers 429 with a problem-details body. No runtime import of Hono.
 */
export function honoRateLimit<Context extends HonoLikeContext = HonoLikeContext>(
  options: HonoRateLimitOptions<Context>,
): (context: Context, next: () => Promise<void>) => Promise<Response | undefined> {
  assertMiddlewareOptions(options)
  const defaultKey = clientKey<Context>(
    {
      address: clientAddress,
      // Hono has no proxy setting: the default key is always the socket address.
      ignoredForwarding: (c) =>
        c.req.header('x-forwarded-for') !== undefined || c.req.header('forwarded') !== undefined,
      proxyAdvice:
        'pass a key() that reads the client address your own proxy sets (e.g. the entry it appends to ' +
        'X-Forwarded-For) and returns ipKey(address).',
    },
    options.ipv6Subnet,
  )
  return async (context, next) => {
    const { result, headers } = await decide(options, context, defaultKey)
    if (result && !result.allowed) {
      return new Response(
        JSON.stringify(options.body ? options.body(result, context) : problemDetails(result)),
        {
          status: 429,
          headers: { ...headers, 'Content-Type': PROBLEM_JSON },
        },
      )
    }
    await next()
    for (const name in headers) context.header(name, headers[name]!)
    return undefined
  }
}
