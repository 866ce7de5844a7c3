import { describe, expect, it } from 'vitest'
import { checkCredentials, hashPassword, passwordDerivations, verifyPassword } from './password.js'

describe('password hashing', () => {
  it('verifies the right password only, with a fresh salt per hash', async () => {
    const first = await hashPassword('playground')
    const second = await hashPassword('playground')
    expect(first).toMatch(/^scrypt\$[\w-]+\$[\w-]+$/)
    expect(first).not.toBe(second)
    expect(await verifyPassword('playground', first)).toBe(true)
    expect(await verifyPassword('Playground', first)).toBe(false)
  })

  it('treats a malformed stored hash as a mismatch, not an error', async () => {
    for (const stored of ['', 'plain', 'md5$x$y', 'scrypt$$', 'scrypt$c2FsdA$']) {
      expect(await verifyPassword('playground', stored)).toBe(false)
    }
  })
})

describe('checkCredentials', () => {
  it('runs one derivation for an unknown account, a wrong password and a right one alike', async () => {
    const known = { id: 7, passwordHash: await hashPassword('playground') }
    const cases = [
      { credentials: null, password: 'playground', expected: null },
      { credentials: known, password: 'wrong', expected: null },
      { credentials: known, password: 'playground', expected: 7 },
    ]
    for (const { credentials, password, expected } of cases) {
      const before = passwordDerivations()
      expect(await checkCredentials(credentials, password)).toBe(expected)
      expect(passwordDerivations() - before).toBe(1)
    }
  })
})
