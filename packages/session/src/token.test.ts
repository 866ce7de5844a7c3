import { describe, expect, it } from 'vitest'
import { digestOf, generateToken, parsePublicId, parseToken, tagFor } from './token.js'

describe('tokens', () => {
  it('carries a 6-char user tag, a 16-char (96-bit) id and a 43-char (258-bit) secret', () => {
    const { token, parsed } = generateToken('alice')
    const [tag, id, secret] = token.split('.') as [string, string, string]
    expect(tag).toBe(tagFor('alice'))
    expect(id).toMatch(/^[A-Za-z0-9_-]{16}$/)
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(parsed).toEqual({ tag, id, publicId: `${tag}.${id}`, digest: digestOf(secret) })
  })

  it('never repeats an id or a secret', () => {
    const ids = new Set<string>()
    const secrets = new Set<string>()
    for (let i = 0; i < 5000; i++) {
      const [, id, secret] = generateToken('bob').token.split('.') as [string, string, string]
      ids.add(id)
      secrets.add(secret)
    }
    expect(ids.size).toBe(5000)
    expect(secrets.size).toBe(5000)
  })

  it('round-trips through parseToken, and the digest is SHA-256 of the secret', () => {
    const { token, parsed } = generateToken('carol')
    expect(parseToken(token)).toEqual(parsed)
    expect(Buffer.from(parsed.digest, 'base64url')).toHaveLength(32)
    expect(parsed.digest).not.toContain(token.split('.')[2])
  })

  it('spreads user tags and keeps them free of hash-tag braces', () => {
    const tags = new Set(Array.from({ length: 1000 }, (_, i) => tagFor(`user-${i}`)))
    expect(tags.size).toBeGreaterThan(990)
    for (const tag of tags) expect(tag).toMatch(/^[A-Za-z0-9_-]{6}$/)
  })

  it.each([
    ['too short a secret', `${'A'.repeat(6)}.${'A'.repeat(16)}.${'A'.repeat(42)}`],
    ['too long a secret', `${'A'.repeat(6)}.${'A'.repeat(16)}.${'A'.repeat(44)}`],
    [
      'a long id and a short secret of the right total length',
      `${'A'.repeat(6)}.${'A'.repeat(17)}.${'A'.repeat(42)}`,
    ],
    ['a missing part', `${'A'.repeat(6)}.${'A'.repeat(60)}`],
    ['an extra part', `${'A'.repeat(6)}.${'A'.repeat(16)}.${'A'.repeat(43)}.x`],
    ['non-base64url characters', `${'A'.repeat(6)}.${'A'.repeat(16)}.${'A'.repeat(42)}=`],
    ['a space', ` ${'A'.repeat(5)}.${'A'.repeat(16)}.${'A'.repeat(43)}`],
    ['undefined', undefined],
  ])('rejects %s', (_, token) => {
    expect(parseToken(token)).toBeNull()
  })

  it('parses public ids and nothing else', () => {
    const { parsed } = generateToken('dave')
    expect(parsePublicId(parsed.publicId)).toEqual({ tag: parsed.tag, id: parsed.id })
    expect(parsePublicId(`${parsed.publicId}.secret`)).toBeNull()
    expect(parsePublicId(42)).toBeNull()
  })
})
