import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../app-env.js'
import { problem } from './json-body.js'

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * Refuses state-changing requests that a browser sends on behalf of another page (CSRF). The
 * SameSite=Lax cookie alone does not stop them: a page on another port of the same host is
 * "same-site", so the browser attaches the cookie to its form posts.
 *
 * - `Sec-Fetch-Site` (every current browser sends it): only `same-origin`, or `none` (typed in the
 *   address bar, a bookmark) pass; `same-site` and `cross-site` are refused.
 * - Without it, an `Origin` header must name this very host.
 * - With neither, the request did not come from a browser's page (curl, a server): nothing to forge.
 */
export function sameOriginOnly(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (safeMethods.has(c.req.method)) return next()
    const site = c.req.header('sec-fetch-site')
    const origin = c.req.header('origin')
    if (site !== undefined) {
      if (site !== 'same-origin' && site !== 'none') throw refused(`a ${site} request`)
    } else if (origin !== undefined && !sameHost(origin, c.req.header('host'))) {
      throw refused(`a request from ${origin}`)
    }
    return next()
  }
}

function sameHost(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host
  } catch {
    return false
  }
}

function refused(what: string) {
  return problem(403, 'Forbidden', `${what} may not change anything here: use this site's own pages`)
}
