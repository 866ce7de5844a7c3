import { InvalidArgumentError } from '@x/redis-core'
import { SchemaError } from './errors.js'
import type { MessageDecoder } from './message-codec.js'
import { formatIssues } from './standard-schema.js'

/** The field of a stream entry that holds the encoded message. */
export const DATA_FIELD = 'd'

export type Entry = [id: string, fields: string[]]

export function fieldValue(fields: readonly string[], field: string): string | undefined {
  for (let index = 0; index + 1 < fields.length; index += 2) {
    if (fields[index] === field) return String(fields[index + 1])
  }
  return undefined
}

/** XREADGROUP replies `[[key, entries]]` (RESP2 / legacy mapping) or `{ key: entries }` (RESP3 maps). */
export function entriesOf(reply: unknown): Entry[] {
  if (reply === null || reply === undefined) return []
  const streams: unknown[] = Array.isArray(reply)
    ? reply.map((item) => (item as [string, unknown])[1])
    : reply instanceof Map
      ? [...reply.values()]
      : Object.values(reply as object)
  const entries: Entry[] = []
  for (const list of streams) {
    for (const item of list as Array<[string, string[] | null]>) {
      // A null field list is an entry trimmed away while pending; nothing left to handle.
      if (item?.[1]) entries.push([String(item[0]), item[1].map(String)])
    }
  }
  return entries
}

/** Decodes and validates an entry's message; an entry that does not is answered, never thrown. */
export async function decodeEntry<T>(
  decoder: MessageDecoder,
  fields: string[],
): Promise<{ value: T } | { error: unknown }> {
  const raw = fieldValue(fields, DATA_FIELD)
  if (raw === undefined) return { error: new InvalidArgumentError(`entry has no "${DATA_FIELD}" field`) }
  let value: unknown
  try {
    value = decoder.codec.decode(raw)
  } catch (error) {
    return { error }
  }
  if (decoder.schema) {
    const result = await decoder.schema['~standard'].validate(value)
    if (result.issues) {
      const detail = formatIssues(result.issues)
      return {
        error: new SchemaError(`message does not match the schema: ${detail}`, { issues: result.issues }),
      }
    }
    value = result.value
  }
  return { value: value as T }
}
