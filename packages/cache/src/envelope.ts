import { type Codec, DecodeError, EncodeError } from '@x/redis-core'

/**
 * Stored layout: `c1|<generation>|<freshUntil>|<hardUntil>|<tagsLength>|<tags><kind><payload>`, or a
 * tombstone `c1|<generation>|t` left by delete/update so a fetch that started earlier cannot write back.
 * Times are Redis server milliseconds (written by Lua). `tags` is a JSON array of tag/version pairs;
 * `kind` is `s` (codec returned a string) or `b` (a Buffer, stored as base64). The payload is last so
 * the header can be parsed with a few `indexOf` calls and no copy of the value.
 */
export const ENVELOPE_MAGIC = 'c1|'

export type Entry =
  | {
      kind: 'value'
      generation: string
      freshUntil: number
      hardUntil: number
      /** Flat [tag, version, tag, version, …], or undefined when untagged. */
      tags: string[] | undefined
      binary: boolean
      payload: string
    }
  | { kind: 'tombstone'; generation: string }

/** A payload as stored: the codec's string, or its Buffer in base64. */
export interface Stored {
  binary: boolean
  payload: string
}

/** Parses a stored string; throws DecodeError on anything this package did not write. */
export function parseEntry(raw: string): Entry {
  if (!raw.startsWith(ENVELOPE_MAGIC)) throw new DecodeError('stored value is not a cache envelope')
  const genEnd = raw.indexOf('|', 3)
  if (genEnd === -1) throw new DecodeError('truncated cache envelope')
  const generation = raw.slice(3, genEnd)
  if (raw.length === genEnd + 2 && raw.charCodeAt(genEnd + 1) === 116 /* t */) {
    return { kind: 'tombstone', generation }
  }
  const freshEnd = raw.indexOf('|', genEnd + 1)
  const hardEnd = freshEnd === -1 ? -1 : raw.indexOf('|', freshEnd + 1)
  const tagsLengthEnd = hardEnd === -1 ? -1 : raw.indexOf('|', hardEnd + 1)
  if (tagsLengthEnd === -1) throw new DecodeError('truncated cache envelope')
  const freshUntil = Number(raw.slice(genEnd + 1, freshEnd))
  const hardUntil = Number(raw.slice(freshEnd + 1, hardEnd))
  const tagsLength = Number(raw.slice(hardEnd + 1, tagsLengthEnd))
  const kindAt = tagsLengthEnd + 1 + tagsLength
  const kind = raw.charCodeAt(kindAt)
  if (
    !Number.isFinite(freshUntil) ||
    !Number.isFinite(hardUntil) ||
    !Number.isInteger(tagsLength) ||
    (kind !== 115 && kind !== 98) // s, b
  ) {
    throw new DecodeError('malformed cache envelope header')
  }
  let tags: string[] | undefined
  if (tagsLength > 0) {
    try {
      tags = JSON.parse(raw.slice(tagsLengthEnd + 1, kindAt)) as string[]
    } catch (error) {
      throw new DecodeError('malformed tag list in cache envelope', { cause: error })
    }
    if (!Array.isArray(tags) || tags.length % 2 !== 0 || tags.some((tag) => typeof tag !== 'string')) {
      throw new DecodeError('malformed tag list in cache envelope')
    }
  }
  return {
    kind: 'value',
    generation,
    freshUntil,
    hardUntil,
    tags,
    binary: kind === 98,
    payload: raw.slice(kindAt + 1),
  }
}

/** Decodes the payload with the codec; DecodeError when the codec refuses it. */
export function decodePayload<T>(entry: Stored, codec: Codec): T {
  try {
    return codec.decode(entry.binary ? Buffer.from(entry.payload, 'base64') : entry.payload) as T
  } catch (error) {
    if (DecodeError.isInstance(error)) throw error
    throw new DecodeError(`codec "${codec.name}" could not decode the stored value`, { cause: error })
  }
}

/**
 * The codec's output with its kind marker. Refuses `undefined` before the codec sees it, so every
 * codec gets the same rule. Throws EncodeError; nothing has been written at that point.
 */
export function encodePayload(value: unknown, codec: Codec): string {
  if (value === undefined) {
    throw new EncodeError('undefined cannot be cached; return null for "no value" or call ctx.skip()')
  }
  let encoded: string | Buffer
  try {
    encoded = codec.encode(value)
  } catch (error) {
    if (EncodeError.isInstance(error)) throw error
    throw new EncodeError(`codec "${codec.name}" could not encode the value`, { cause: error })
  }
  return typeof encoded === 'string' ? `s${encoded}` : `b${encoded.toString('base64')}`
}

/** The part of the envelope after the times (Lua prepends generation and times). */
export function buildBody(payload: string, tagPairs: readonly string[] | undefined): string {
  const tags = tagPairs && tagPairs.length > 0 ? JSON.stringify(tagPairs) : ''
  return `${tags.length}|${tags}${payload}`
}
