import type { Message } from './db/messages.js'

/** Everything the app publishes on its pub/sub channel and streams to /events. */
export type PlaygroundEvent =
  | { type: 'message'; message: Message }
  | { type: 'job'; jobId: string; fence: number; instance: string; status: 'finished' | 'rejected' }
  | { type: 'user-updated'; userId: number; version: number; instance: string }
  | { type: 'rate-limited'; key: 'ip' | 'user'; instance: string }

export const eventsChannel = (prefix: string) => `${prefix}:events`
