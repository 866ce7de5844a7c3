import { clientKey, forwardingIgnored } from './client-key.js'
import {
  assertMiddlewareOptions,
  decide,
  type MiddlewareOptions,
  PROBLEM_JSON,
  problemDetails,
} from './shared.js'

/** The parts of a Fastify request the plugin reads. */
export interface FastifyLikeRequest {
  /** Fastify's client address (honours `trustProxy`). */
  ip: string
  /** Set by Fastify only when `trustProxy` is configured. */
  ips?: string[] | undefined
  headers?: Record<string, string | string[] | undefined>
}

/** The parts of a Fastify reply the plugin writes. */
export interface FastifyLikeReply {
  header(name: string, value: string): unknown
  code(statusCode: number): unknown
  type(contentType: string): unknown
  send(payload?: unknown): unknown
}

/** The part of a Fastify instance the plugin uses. */
export interface FastifyLikeInstance {
  // The hook receives Fastify's own request and reply types; `any` lets a real instance match.
  // biome-ignore lint/suspicious/noExplicitAny: structural match with Fastify's generic hook types
  addHook(name: 'onRequest', hook: (request: any, reply: any) => Promise<unknown>): unknown
}

export type FastifyRateLimitOptions<Request extends FastifyLikeRequest = FastifyLikeRequest> =
  MiddlewareOptions<Request>

/**
 * Fastify plugin: `app.register(fastifyRateLimit, { limiter })`. It adds an `onRequest` hook to
 * the instance it is registered on (not encapsulated, like fastify-plugin would). The default key is
 * `ipKey(request.ip)`. No runtime import of Fastify.
 */
export async function fastifyRateLimit<Request extends FastifyLikeRequest = FastifyLikeRequest>(
  fastify: FastifyLikeInstance,
  options: FastifyRateLimitOptions<Request>,
): Promise<void> {
  assertMiddlewareOptions(options)
  const defaultKey = clientKey<Request>(
    {
      address: (req) => req.ip,
      ignoredForwarding: (req) => forwardingIgnored(req.headers, req.ips !== undefined),
      proxyAdvice: 'pass `trustProxy` to Fastify() with your proxy hops or addresses.',
    },
    options.ipv6Subnet,
  )
  const hook = async (request: Request, reply: FastifyLikeReply): Promise<unknown> => {
    const { result, headers } = await decide(options, request, defaultKey)
    for (const name in headers) reply.header(name, headers[name]!)
    if (!result || result.allowed) return undefined
    reply.code(429)
    reply.type(PROBLEM_JSON)
    reply.send(JSON.stringify(options.body ? options.body(result, request) : problemDetails(result)))
    return reply
  }
  fastify.addHook('onRequest', hook)
}

// What fastify-plugin sets: the hook applies to the registering scope, not a child context.
Object.assign(fastifyRateLimit, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: '@x/ratelimit',
})
