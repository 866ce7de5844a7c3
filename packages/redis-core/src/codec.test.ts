import { describe, expect, it } from 'vitest'
import { jsonCodec } from './codec.js'
import { DecodeError, EncodeError, XError } from './errors.js'

describe('jsonCodec', () => {
  it.each([0, '', false, null, 'text', 1.5, [1, 'a'], { a: { b: [null] } }])('round-trips %o', (value) => {
    expect(jsonCodec.decode(jsonCodec.encode(value))).toEqual(value)
  })

  it('decodes Buffers', () => {
    expect(jsonCodec.decode(Buffer.from('{"a":1}'))).toEqual({ a: 1 })
  })

  it('keeps Dates as their JSON form (toJSON)', () => {
    expect(jsonCodec.encode({ at: new Date(0) })).toBe('{"at":"1970-01-01T00:00:00.000Z"}')
  })

  it.each([
    ['undefined', undefined],
    ['a BigInt', 10n],
    ['a nested BigInt', { a: [1, { b: 2n }] }],
    ['a function', () => 1],
    ['NaN', Number.NaN],
    ['Infinity in an array', [Number.POSITIVE_INFINITY]],
    ['a symbol', Symbol('s')],
  ])('refuses %s with EncodeError', (_, value) => {
    expect(() => jsonCodec.encode(value)).toThrow(EncodeError)
  })

  it('refuses cycles with EncodeError and the path', () => {
    const value: Record<string, unknown> = { a: {} }
    ;(value.a as Record<string, unknown>).self = value
    expect(() => jsonCodec.encode(value)).toThrow(/cyclic value/)
  })

  it('names the path of what it refuses', () => {
    expect(() => jsonCodec.encode({ a: [1, { b: () => 1 }] })).toThrow(
      /function cannot be encoded \(at \$\.a\[1\]\.b\)/,
    )
    expect(() => jsonCodec.encode({ n: Number.NaN })).toThrow(/NaN cannot be encoded as JSON \(at \$\.n\)/)
  })

  it('allows the same object twice when it is not a cycle', () => {
    const shared = { x: 1 }
    expect(jsonCodec.decode(jsonCodec.encode([shared, shared]))).toEqual([{ x: 1 }, { x: 1 }])
  })

  it.each(['{', 'undefined', '\u0000\u0001', '{"a":'])('throws DecodeError on garbage %j', (raw) => {
    try {
      jsonCodec.decode(raw)
      expect.unreachable()
    } catch (error) {
      expect(DecodeError.isInstance(error)).toBe(true)
      expect(XError.isInstance(error)).toBe(true)
      expect((error as DecodeError).code).toBe('E_DECODE')
      expect((error as Error).cause).toBeInstanceOf(SyntaxError)
    }
  })
})
