import type { Message } from './db/messages.js'

/** Everything the app publishes on its pub/sub channel and streams to /events. */
export type PlaygroundEvent =
  | { type: 'message'; message: Message }
  | {
      type: 'job'
      jobId: string
      /** The lease's fencing token; -1 before one was granted (queued) or when none was (rejected). */
      fence: number
      instance: string
      status: JobStatus
      /** How long the run waited for the lock, ms (started and finished). */
      waitedMs?: number
    }
  | { type: 'user-updated'; userId: number; version: number; instance: string }
  | { type: 'rate-limited'; key: 'ip' | 'user'; instance: string }

/** A run is queued (waiting for the lock), started (holds it), finished, or rejected. */
export type JobStatus = 'queued' | 'started' | 'finished' | 'rejected'

export const eventsChannel = (prefix: string) => `${prefix}:events`
