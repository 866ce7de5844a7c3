import type { AppProcess } from './app-process.js'

export interface SseEvent {
  event: string
  data: string
  id?: string
}

export interface SseStream {
  /** Every event received so far. */
  readonly events: SseEvent[]
  /** Resolves with the first event (already received or future) matching `predicate`. */
  waitFor(predicate: (event: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>
  close(): void
}

/** Opens GET /events and parses the stream; resolves once the server sent `ready` (subscribed). */
export async function openEvents(app: AppProcess): Promise<SseStream> {
  const controller = new AbortController()
  const response = await app.fetch('/events', { signal: controller.signal })
  if (response.status !== 200 || !response.body) {
    throw new Error(`GET /events on ${app.name}: ${response.status} ${await response.text()}`)
  }
  const events: SseEvent[] = []
  const waiters = new Set<() => void>()
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
  void (async () => {
    let buffer = ''
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) return
        buffer += value
        let end = buffer.indexOf('\n\n')
        while (end !== -1) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const event: SseEvent = { event: 'message', data: '' }
          const data: string[] = []
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) event.event = line.slice(6).trim()
            else if (line.startsWith('data:')) data.push(line.slice(5).trimStart())
            else if (line.startsWith('id:')) event.id = line.slice(3).trim()
          }
          if (data.length > 0) {
            event.data = data.join('\n')
            events.push(event)
            for (const wake of waiters) wake()
          }
          end = buffer.indexOf('\n\n')
        }
      }
    } catch {
      // Aborted by close(), or the server went away: waiters time out with a clear message.
    }
  })()

  const stream: SseStream = {
    events,
    waitFor(predicate, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events.find(predicate)
          if (!found) return false
          waiters.delete(check)
          clearTimeout(timer)
          resolve(found)
          return true
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(
            new Error(
              `no matching event from ${app.name} within ${timeoutMs} ms; got ${JSON.stringify(events)}`,
            ),
          )
        }, timeoutMs)
        if (!check()) waiters.add(check)
      })
    },
    close() {
      controller.abort()
    },
  }
  await stream.waitFor((event) => event.event === 'ready')
  return stream
}
