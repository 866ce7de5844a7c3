import { Hono } from 'hono'
import type { AppEnv } from './app-env.js'
import { onError } from './http/on-error.js'
import { healthRoutes } from './routes/health.js'
import type { Services } from './services.js'

export function createApp(services: Services) {
  const app = new Hono<AppEnv>()
  app.use(async (c, next) => {
    c.set('services', services)
    // Tells the e2e tests (and a curious reader) which instance answered.
    c.header('X-Instance', services.instanceId)
    await next()
  })
  app.route('/', healthRoutes())
  app.notFound((c) =>
    c.json(
      { type: 'about:blank', title: 'Not Found', status: 404, detail: `no route for ${c.req.path}` },
      404,
    ),
  )
  app.onError(onError)
  return app
}
