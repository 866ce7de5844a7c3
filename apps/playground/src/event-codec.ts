import { type Codec, DecodeError } from '@x/redis-core'
import type { JobStatus, PlaygroundEvent } from './events.js'

/** Far above any event the app publishes (a message body is at most 1000 characters). */
export const maxEventBytes = 16 * 1024
/** The app's events nest three levels deep at most. */
export const maxEventDepth = 8

/**
 * The codec of the events channel. Anyone who can reach Redis can PUBLISH on it, so what comes in
 * is bounded before it is parsed (size and nesting depth), and what goes out to the streams is an
 * event rebuilt from the known fields only: a foreign or hostile payload becomes a `DecodeError`
 * (reported by pub/sub, skipped), never an exception inside every open stream.
 */
export const eventCodec: Codec<PlaygroundEvent> = {
  name: 'playground-event',
  encode: (event) => JSON.stringify(event),
  decode(raw) {
    const text = typeof raw === 'string' ? raw : raw.toString('utf8')
    if (Buffer.byteLength(text) > maxEventBytes) {
      throw new DecodeError(`event larger than ${maxEventBytes} bytes`)
    }
    if (nestingDepth(text) > maxEventDepth) {
      throw new DecodeError(`event nested deeper than ${maxEventDepth} levels`)
    }
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (error) {
      throw new DecodeError('event is not JSON', { cause: error })
    }
    const event = toPlaygroundEvent(value)
    if (!event) throw new DecodeError('event of unknown shape')
    return event
  },
}

/** Deepest bracket nesting of a JSON text, brackets inside strings excluded; no recursion. */
export function nestingDepth(text: string): number {
  let depth = 0
  let deepest = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const char = text[i]
    if (inString) {
      if (char === '\\') i++
      else if (char === '"') inString = false
    } else if (char === '"') inString = true
    else if (char === '{' || char === '[') deepest = Math.max(deepest, ++depth)
    else if (char === '}' || char === ']') depth--
  }
  return deepest
}

const jobStatuses: ReadonlySet<string> = new Set<JobStatus>(['queued', 'started', 'finished', 'rejected'])
const limitKeys: ReadonlySet<string> = new Set(['ip', 'user'])

/** The event with exactly the fields the app defines, or null for anything else. */
export function toPlaygroundEvent(value: unknown): PlaygroundEvent | null {
  if (!isObject(value)) return null
  switch (value.type) {
    case 'message': {
      const { message } = value
      if (!isObject(message)) return null
      const { id, author, body, instance, createdAt } = message
      if (!isInteger(id) || !isText(author) || !isText(body) || !isText(instance) || !isText(createdAt))
        return null
      return { type: 'message', message: { id, author, body, instance, createdAt } }
    }
    case 'job': {
      const { jobId, fence, instance, status, waitedMs } = value
      if (!isText(jobId) || !isInteger(fence) || !isText(instance)) return null
      if (typeof status !== 'string' || !jobStatuses.has(status)) return null
      return {
        type: 'job',
        jobId,
        fence,
        instance,
        status: status as JobStatus,
        ...(isInteger(waitedMs) ? { waitedMs } : {}),
      }
    }
    case 'user-updated': {
      const { userId, version, instance } = value
      if (!isInteger(userId) || !isInteger(version) || !isText(instance)) return null
      return { type: 'user-updated', userId, version, instance }
    }
    case 'rate-limited': {
      const { key, instance } = value
      if (typeof key !== 'string' || !limitKeys.has(key) || !isText(instance)) return null
      return { type: 'rate-limited', key: key as 'ip' | 'user', instance }
    }
    default:
      return null
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
function isInteger(value: unknown): value is number {
  return Number.isSafeInteger(value)
}
function isText(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 2000
}
