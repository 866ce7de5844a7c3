import { type Codec, DecodeError, InvalidArgumentError } from '@x/redis-core'
import { SessionDataTooLargeError } from './errors.js'

// One marker character says how the codec's output was stored: text as is, bytes as base64, so a
// binary codec (msgpackr) survives the string replies scripts return.
const TEXT = 't'
const BYTES = 'b'

/** Encodes session data with the codec and enforces the size limit before anything is sent. */
export function encodeData(codec: Codec, data: unknown, maxBytes: number): string {
  assertRecord(data, 'session data')
  const raw = codec.encode(data)
  const stored = typeof raw === 'string' ? TEXT + raw : BYTES + raw.toString('base64')
  const size = Buffer.byteLength(stored)
  if (size > maxBytes) {
    throw new SessionDataTooLargeError(
      `session data is ${size} bytes encoded, more than maxDataBytes (${maxBytes}); nothing was written`,
      { sizeBytes: size, maxDataBytes: maxBytes },
    )
  }
  return stored
}

export function decodeData<T>(codec: Codec, stored: string): T {
  const marker = stored[0]
  const body = stored.slice(1)
  let value: unknown
  if (marker === TEXT) value = codec.decode(body)
  else if (marker === BYTES) value = codec.decode(Buffer.from(body, 'base64'))
  else throw new DecodeError('stored session data has an unknown format marker')
  if (!isRecord(value)) throw new DecodeError('stored session data is not an object')
  return value as T
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function assertRecord(value: unknown, what: string): asserts value is Record<string, unknown> {
  if (!isRecord(value)) throw new InvalidArgumentError(`${what} must be a plain object`)
}
