import { DecodeError, EncodeError, jsonCodec } from '@x/redis-core'
import { describe, expect, it } from 'vitest'
import { buildBody, decodePayload, encodePayload, parseEntry } from './envelope.js'

const wrap = (body: string, generation = '12') => `c1|${generation}|1000|2000|${body}`

describe('envelope', () => {
  it('round-trips values, including falsy ones and strings with separators', () => {
    for (const value of [0, '', false, null, 'a|b|c', { x: [1, '|'] }]) {
      const entry = parseEntry(wrap(buildBody(encodePayload(value, jsonCodec), undefined)))
      expect(entry.kind).toBe('value')
      if (entry.kind === 'value') expect(decodePayload(entry, jsonCodec)).toEqual(value)
    }
  })

  it('carries tag/version pairs, also with separators in tag names', () => {
    const entry = parseEntry(wrap(buildBody(encodePayload(1, jsonCodec), ['a|b', '17', 'c', '18'])))
    expect(entry).toMatchObject({
      kind: 'value',
      generation: '12',
      freshUntil: 1000,
      hardUntil: 2000,
      tags: ['a|b', '17', 'c', '18'],
    })
  })

  it('parses tombstones', () => {
    expect(parseEntry('c1|99|t')).toEqual({ kind: 'tombstone', generation: '99' })
  })

  it('stores Buffer codec output as base64', () => {
    const codec = {
      name: 'buf',
      encode: (value: unknown) => Buffer.from(String(value)),
      decode: (raw: string | Buffer) => raw.toString(),
    }
    const entry = parseEntry(wrap(buildBody(encodePayload('\u0000binary\u00ff', codec), undefined)))
    if (entry.kind !== 'value') throw new Error('expected a value')
    expect(entry.binary).toBe(true)
    expect(decodePayload(entry, codec)).toBe('\u0000binary\u00ff')
  })

  it.each([
    '',
    'hello',
    'c1|',
    'c1|1|2',
    'c1|1|x|2|0|s1',
    'c1|1|2|3|9|s1',
    'c1|1|2|3|0|z1',
    'c1|1|2|3|3|[1]s1',
  ])('rejects %j with DecodeError', (raw) => {
    expect(() => parseEntry(raw)).toThrow(DecodeError)
  })

  it('refuses undefined and wraps codec failures in EncodeError / DecodeError', () => {
    expect(() => encodePayload(undefined, jsonCodec)).toThrow(EncodeError)
    const broken = {
      name: 'broken',
      encode: () => {
        throw new Error('nope')
      },
      decode: () => {
        throw new Error('nope')
      },
    }
    expect(() => encodePayload(1, broken)).toThrow(EncodeError)
    const entry = parseEntry(wrap('0|sx'))
    if (entry.kind !== 'value') throw new Error('expected a value')
    expect(() => decodePayload(entry, broken)).toThrow(DecodeError)
  })
})
