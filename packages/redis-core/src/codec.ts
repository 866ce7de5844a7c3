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
 * JSON, strict: what is encoded is what `decode` gives back, or `encode` throws `EncodeError`
 * naming the path (`$.user.tags`) instead of silently storing `null`, `{}` or nothing.
 *
 * Round-trips: strings, finite numbers, booleans, `null`, arrays of these, and plain objects
 * (`{}` literals, `Object.create(null)`); properties whose value is `undefined` are left out, as
 * JSON means "absent". A value with a `toJSON()` method is stored as what that returns and reads
 * back as that: a `Date` becomes its ISO string.
 *
 * Refused: `undefined` at the top or in an array, `NaN`/`Infinity`, BigInt, functions, symbols,
 * cycles, `Map`, `Set`, typed arrays, `Buffer`, `ArrayBuffer`, and instances of classes without
 * `toJSON()` (their prototype would be lost). Convert them first (`Object.fromEntries(map)`,
 * `[...set]`) or plug in a codec that knows them (superjson, msgpackr).
 */
export const jsonCodec: Codec<unknown> = {
  name: 'json',
  encode(value) {
    let text: string | undefined
    try {
      // JSON.stringify itself refuses BigInt and cycles (TypeError), so the check below can recurse safely.
      text = JSON.stringify(value)
    } catch (error) {
      const reason = /circular/i.test((error as Error).message) ? 'cyclic value' : (error as Error).message
      throw new EncodeError(`value cannot be encoded as JSON: ${reason}`, { cause: error })
    }
    // What stringify would silently drop or turn into null: reject it, with the path, on the slow path only.
    if (text === undefined || !isJsonSafe(value)) throw new EncodeError(describeUnsafe(value, '$'))
    return text
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

/** Hot path: no allocation, no paths. Only called on acyclic values. */
function isJsonSafe(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true
    case 'number':
      return Number.isFinite(value)
    case 'object': {
      if (value === null) return true
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!isJsonSafe(value[i])) return false
        return true
      }
      if (!isPlainObject(value)) return hasOwnJson(value)
      for (const key in value) {
        if (!Object.hasOwn(value, key)) continue
        const item = (value as Record<string, unknown>)[key]
        // JSON drops undefined properties: that is the JSON meaning of "absent", not a loss.
        if (item !== undefined && !isJsonSafe(item)) return false
      }
      return true
    }
    default:
      return false
  }
}

/** `{}` literals and `Object.create(null)`, also from another realm (whose Object.prototype differs). */
function isPlainObject(value: object): boolean {
  const prototype = Object.getPrototypeOf(value)
  return prototype === null || Object.getPrototypeOf(prototype) === null
}

/** A `toJSON()` is the author's chosen JSON form (Date), except on binary data, which it mangles. */
function hasOwnJson(value: object): boolean {
  return typeof (value as { toJSON?: unknown }).toJSON === 'function' && !ArrayBuffer.isView(value)
}

function describeUnsafe(value: unknown, path: string): string {
  switch (typeof value) {
    case 'undefined':
      return `undefined cannot be encoded (at ${path})`
    case 'function':
    case 'symbol':
      return `${typeof value} cannot be encoded (at ${path})`
    case 'number':
      return `${value} cannot be encoded as JSON (at ${path})`
    case 'object': {
      if (value !== null && !Array.isArray(value) && !isPlainObject(value) && !hasOwnJson(value)) {
        return `${kindOf(value)} cannot be encoded as JSON (at ${path}): convert it to plain data first, or use a codec that knows it`
      }
      const entries = Array.isArray(value)
        ? value.map((item, index) => [`${path}[${index}]`, item] as const)
        : Object.entries(value ?? {})
            .filter(([, item]) => item !== undefined)
            .map(([key, item]) => [`${path}.${key}`, item] as const)
      for (const [itemPath, item] of entries) {
        if (!isJsonSafe(item)) return describeUnsafe(item, itemPath)
      }
      return `value cannot be encoded (at ${path})`
    }
    default:
      return `value cannot be encoded (at ${path})`
  }
}

function kindOf(value: object): string {
  if (value instanceof Map) return 'a Map'
  if (value instanceof Set) return 'a Set'
  if (Buffer.isBuffer(value)) return 'a Buffer'
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer)
    return `binary data (${value.constructor.name})`
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name
  return typeof name === 'string' && name !== ''
    ? `an instance of ${name} without toJSON()`
    : 'an object with a prototype'
}
