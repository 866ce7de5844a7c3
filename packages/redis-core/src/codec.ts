import { DecodeError, EncodeError } from './errors.js'

/**
 * How values become Redis strings and back. `decode` throws `DecodeError` on data it did not write;
 * `encode` throws `EncodeError` on values it cannot represent. superjson or msgpackr plug in by
 * implementing these two functions.
 */
export interface Codec<T = unknown> {
  /** Short stable name, stored by packages that tag their envelopes with the codec. */
  readonly name: string
  encode(value: T): string | Buffer
  decode(raw: string | Buffer): T
}

/**
 * JSON, strict: refuses `undefined`, BigInt, functions, symbols and cycles instead of silently
 * turning them into `null`, `{}` or nothing, so a value read back is the value written.
 */
export const jsonCodec: Codec<unknown> = {
  name: 'json',
  encode(value) {
    assertJsonSafe(value)
    try {
      return JSON.stringify(value)
    } catch (error) {
      throw new EncodeError(`value cannot be encoded as JSON: ${(error as Error).message}`, { cause: error })
    }
  },
  decode(raw) {
    const text = typeof raw === 'string' ? raw : raw.toString('utf8')
    try {
      return JSON.parse(text)
    } catch (error) {
      throw new DecodeError(`stored value is not valid JSON (${text.length} chars)`, { cause: error })
    }
  },
}

function assertJsonSafe(value: unknown, seen = new Set<object>(), path = '$'): void {
  switch (typeof value) {
    case 'undefined':
      throw new EncodeError(`undefined cannot be encoded (at ${path})`)
    case 'bigint':
      throw new EncodeError(`BigInt cannot be encoded as JSON (at ${path})`)
    case 'function':
    case 'symbol':
      throw new EncodeError(`${typeof value} cannot be encoded (at ${path})`)
    case 'number':
      if (!Number.isFinite(value)) throw new EncodeError(`${value} cannot be encoded as JSON (at ${path})`)
      return
    case 'object': {
      if (value === null) return
      if (seen.has(value)) throw new EncodeError(`cyclic value cannot be encoded (at ${path})`)
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return
      seen.add(value)
      if (Array.isArray(value)) {
        value.forEach((item, index) => {
          assertJsonSafe(item, seen, `${path}[${index}]`)
        })
      } else {
        for (const [key, item] of Object.entries(value)) {
          // JSON.stringify drops undefined properties; that is the expected JSON meaning of "absent".
          if (item === undefined) continue
          assertJsonSafe(item, seen, `${path}.${key}`)
        }
      }
      seen.delete(value)
      return
    }
    default:
      return
  }
}
