import { type Codec, EncodeError, InvalidArgumentError } from '@x/redis-core'
import { SchemaError } from './errors.js'
import { formatIssues, type StandardSchemaV1 } from './standard-schema.js'

/**
 * How one family of subscribers turns a raw payload into a value: a codec and an optional schema.
 * All handlers that share a decoder are served from one decode per message.
 */
export interface MessageDecoder {
  readonly codec: Codec<unknown>
  readonly schema: StandardSchemaV1 | undefined
}

export function createDecoder(codec: Codec<unknown>, schema?: StandardSchemaV1): MessageDecoder {
  if (schema !== undefined && typeof schema?.['~standard']?.validate !== 'function') {
    throw new InvalidArgumentError(
      'schema must implement Standard Schema v1 (a "~standard".validate function)',
    )
  }
  return { codec, schema }
}

/**
 * Encodes an outgoing message: `undefined` is refused up front, the schema (if any) must accept the
 * value, and the codec's own `EncodeError` (BigInt, cycles, NaN) passes through unchanged.
 */
export async function encodeMessage(decoder: MessageDecoder, message: unknown): Promise<string | Buffer> {
  if (message === undefined) throw new InvalidArgumentError('message must not be undefined')
  let value: unknown = message
  if (decoder.schema) {
    const result = await decoder.schema['~standard'].validate(message)
    if (result.issues) {
      throw new InvalidArgumentError(
        `message does not match the channel schema: ${formatIssues(result.issues)}`,
        {
          cause: new SchemaError(formatIssues(result.issues), { issues: result.issues }),
        },
      )
    }
    value = result.value
  }
  return encodeValue(decoder.codec, value)
}

/** The schema-less fast path of `encodeMessage`, synchronous so `publish` adds no extra tick. */
export function encodeValue(codec: Codec<unknown>, message: unknown): string | Buffer {
  if (message === undefined) throw new InvalidArgumentError('message must not be undefined')
  const encoded = codec.encode(message)
  if (typeof encoded !== 'string' && !Buffer.isBuffer(encoded)) {
    throw new EncodeError(`codec "${codec.name}" returned ${typeof encoded}, expected a string or Buffer`)
  }
  return encoded
}
