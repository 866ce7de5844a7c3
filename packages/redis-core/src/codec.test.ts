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

  class Point {
    constructor(
      readonly x: number,
      readonly y: number,
    ) {}
  }
  class Money {
    constructor(readonly cents: number) {}
    toJSON() {
      return { cents: this.cents }
    }
  }

  it.each([
    ['a Map', new Map([['a', 1]]), /a Map cannot be encoded as JSON \(at \$\)/],
    ['a nested Set', { tags: new Set(['a']) }, /a Set cannot be encoded as JSON \(at \$\.tags\)/],
    [
      'a class instance',
      [new Point(1, 2)],
      /instance of Point without toJSON\(\) cannot be encoded as JSON \(at \$\[0\]\)/,
    ],
    ['a typed array', { bytes: new Uint8Array([1]) }, /binary data \(Uint8Array\).*\$\.bytes/],
    ['a Buffer (whose toJSON does not round-trip)', { raw: Buffer.from('x') }, /a Buffer.*\$\.raw/],
    ['an ArrayBuffer', new ArrayBuffer(2), /binary data \(ArrayBuffer\)/],
    ['a RegExp', { re: /x/ }, /instance of RegExp.*\$\.re/],
  ])('refuses %s (JSON would store {} or lose its type) with the path', (_, value, message) => {
    expect(() => jsonCodec.encode(value)).toThrow(EncodeError)
    expect(() => jsonCodec.encode(value)).toThrow(message)
  })

  it('accepts objects without a prototype and class instances that define toJSON', () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1 })
    expect(jsonCodec.decode(jsonCodec.encode(bare))).toEqual({ a: 1 })
    expect(jsonCodec.decode(jsonCodec.encode({ price: new Money(150) }))).toEqual({ price: { cents: 150 } })
  })

  it('drops properties whose value is undefined (JSON for "absent")', () => {
    expect(jsonCodec.decode(jsonCodec.encode({ a: 1, b: undefined }))).toEqual({ a: 1 })
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
