import { Hono } from 'hono'
import type { AppEnv } from './app-env.js'
import { onError } from './http/on-error.js'
import { ipRateLimit } from './http/rate-limit.js'
import { sameOriginOnly } from './http/same-origin.js'
import { assetRoutes } from './routes/assets.js'
import { healthRoutes } from './routes/health.js'
import { homeRoutes } from './routes/home.js'
import { jobRoutes } from './routes/jobs.js'
import { messageRoutes } from './routes/messages.js'
import { metricsRoutes } from './routes/metrics.js'
import { rateLimitStateRoutes } from './routes/rate-limit-state.js'
import { sessionRoutes } from './routes/sessions.js'
import { statsRoutes } from './routes/stats.js'
import { userRoutes } from './routes/users.js'
import type { Services } from './services.js'

export function createApp(services: Services) {
  const app = new Hono<AppEnv>()
  app.use(async (c, next) => {
    c.set('services', services)
    // Tells the e2e tests (and a curious reader) which instance answered.
    c.header('X-Instance', services.instanceId)
    c.header('X-Content-Type-Options', 'nosniff')
    await next()
    // Error responses are built apart from the context's headers: stamp them too.
    if (!c.res.headers.has('X-Instance')) c.res.headers.set('X-Instance', services.instanceId)
  })
  app.use(ipRateLimit())
  app.use(sameOriginOnly())
  app.route('/', assetRoutes())
  app.route('/', statsRoutes())
  app.route('/', metricsRoutes())
  app.route('/', healthRoutes())
  app.route('/', homeRoutes())
  app.route('/', rateLimitStateRoutes())
  app.route('/', userRoutes())
  app.route('/', sessionRoutes())
  app.route('/', jobRoutes())
  app.route('/', messageRoutes())
  app.notFound((c) =>
    c.json(
      { type: 'about:blank', title: 'Not Found', status: 404, detail: `no route for ${c.req.path}` },
      404,
    ),
  )
  app.onError(onError)
  return app
}
