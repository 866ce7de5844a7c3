import { Hono } from 'hono'
import { streamSSE } from 'hono/streaming'
import type { AppEnv } from '../app-env.js'
import { insertMessage, latestMessages } from '../db/messages.js'
import type { PlaygroundEvent } from '../events.js'
import { getAuth } from '../http/auth.js'
import { problem, readJsonObject, requiredString } from '../http/json-body.js'
import { clientIp } from '../http/rate-limit.js'
import { getUser } from '../users.js'

/**
 * Messages are stored in the database (the source of truth) and then announced on pub/sub, which
 * is at-most-once: a client that reconnects, or gets a `resync` event, reloads GET /messages.
 */
export function messageRoutes() {
  return new Hono<AppEnv>()
    .post('/messages', async (c) => {
      const { db, instanceId, publishEvent } = c.var.services
      const body = await readJsonObject(c)
      const text = requiredString(body, 'body', 1000)
      const auth = await getAuth(c)
      const user = auth ? await getUser(c.var.services, auth.userId) : null
      const message = await insertMessage(db, {
        author: user?.name ?? 'anonymous',
        body: text,
        instance: instanceId,
      })
      const receivers = await publishEvent({ type: 'message', message })
      return c.json({ message, published: receivers !== null, receivers: receivers ?? 0 }, 201)
    })
    .get('/messages', async (c) => {
      return c.json({ messages: await latestMessages(c.var.services.db, 50) })
    })
    .get('/events', async (c) => {
      const { subscribeEvents, onResync, shutdown, instanceId, eventStreams } = c.var.services
      const release = eventStreams.enter(clientIp(c))
      if (release === 'client')
        throw problem(429, 'Too Many Requests', 'too many open event streams from your address')
      if (release === 'total')
        throw problem(503, 'Service Unavailable', 'too many open event streams; try again later')
      const closed = new AbortController()
      closed.signal.addEventListener('abort', release, { once: true })
      const onShutdown = () => closed.abort()
      shutdown.addEventListener('abort', onShutdown, { once: true })
      // Subscribed (and acknowledged by Redis) before the 200 goes out: a failure is still a 503, and
      // a client that saw `ready` receives every message published after it.
      const events = subscribeEvents(closed.signal)
      try {
        await events.ready
      } catch (error) {
        shutdown.removeEventListener('abort', onShutdown)
        closed.abort()
        throw error
      }
      return streamSSE(c, async (stream) => {
        stream.onAbort(() => closed.abort())
        // Pub/sub lost messages while the subscriber was reconnecting: tell the client to reload.
        const offResync = onResync(() => {
          stream
            .writeSSE({ event: 'resync', data: JSON.stringify({ instance: instanceId }) })
            .catch(() => closed.abort())
        })
        const heartbeat = setInterval(() => {
          stream.write(': keep-alive\n\n').catch(() => closed.abort())
        }, 15_000)
        try {
          await stream.writeSSE({ event: 'ready', data: JSON.stringify({ instance: instanceId }) })
          // The channel's codec already bounded, checked and rebuilt each event (event-codec.ts): a
          // foreign payload never reaches this loop, so it cannot end this or any other stream.
          for await (const event of events) await stream.writeSSE(toSse(event))
        } finally {
          release()
          clearInterval(heartbeat)
          offResync()
          shutdown.removeEventListener('abort', onShutdown)
          await events.close()
        }
      })
    })
}

function toSse(event: PlaygroundEvent) {
  if (event.type === 'message') {
    return { event: 'message', id: String(event.message.id), data: JSON.stringify(event.message) }
  }
  return { event: event.type, data: JSON.stringify(event) }
}
