import { describe, expect, it } from 'vitest'
import { slotOf } from './cluster.js'
import { InvalidArgumentError } from './errors.js'
import { keyspace } from './keyspace.js'

describe('keyspace', () => {
  const keys = keyspace('app:cache')

  it('joins parts with the separator', () => {
    expect(keys.key('user', 42)).toBe('app:cache:user:42')
    expect(keyspace('app:').key('x')).toBe('app:x')
  })

  it('builds hash-tagged keys that share a slot', () => {
    const a = keys.tagged('user-1', 'data')
    const b = keys.tagged('user-1', 'index')
    expect(a).toBe('app:cache:{user-1}:data')
    expect(slotOf(a)).toBe(slotOf(b))
  })

  it('nests child keyspaces', () => {
    expect(keys.child('v2').key('a')).toBe('app:cache:v2:a')
  })

  it('escapes glob characters in the scan pattern', () => {
    expect(keyspace('a*b?[c]').pattern()).toBe('a\\*b\\?\\[c\\]:*')
  })

  it.each([
    ['an empty part', () => keys.key('')],
    ['a control character', () => keys.key('a\nb')],
    ['a NUL byte', () => keys.key('a\u0000')],
    ['an oversized key', () => keys.key('x'.repeat(2000))],
    ['a non-finite number', () => keys.key(Number.NaN)],
    ['a non-string part', () => keys.key(undefined as unknown as string)],
    ['braces in a tag', () => keys.tagged('a{b}')],
    ['braces in the prefix', () => keyspace('a{b}')],
    ['an empty prefix', () => keyspace('')],
  ])('rejects %s with InvalidArgumentError', (_, build) => {
    expect(build).toThrow(InvalidArgumentError)
  })

  it('respects maxKeyBytes in bytes, not characters', () => {
    const small = keyspace('p', { maxKeyBytes: 10 })
    expect(small.key('1234')).toBe('p:1234')
    expect(() => small.key('éééé€')).toThrow(/longer than 10 bytes/)
  })
})
