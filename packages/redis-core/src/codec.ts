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
      if (value === null || typeof (value as { toJSON?: unknown }).toJSON === 'function') return true
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!isJsonSafe(value[i])) return false
        return true
      }
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
