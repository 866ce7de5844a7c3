import { describe, expect, it } from 'vitest'
import { redact, redactError } from './redact.js'

describe('redact', () => {
  it.each([
    ['redis://:hunter2@db:6379/0', 'redis://:***@db:6379/0'],
    ['rediss://alice:hunter2@db:6380', 'rediss://alice:***@db:6380'],
    ['connect to redis://hunter2@db failed', 'connect to redis://***@db failed'],
    ['AUTH hunter2', 'AUTH ***'],
    ['auth alice hunter2', 'auth ***'],
    ['"AUTH" "alice" "hunter2" then "GET"', '"AUTH" *** then "GET"'],
    ["args: [ '3', 'AUTH', 'default', 'hunter2' ]", "args: [ '3', 'AUTH' *** ]"],
    ['HELLO 3 AUTH default hunter2', 'HELLO 3 AUTH ***'],
    ['CONFIG SET requirepass hunter2', 'CONFIG SET requirepass ***'],
    ['--masterauth hunter2', '--masterauth ***'],
    ['password=hunter2&x=1', 'password=***&x=1'],
    ['{"password":"hunter2"}', '{"password":"***"}'],
  ])('hides the secret in %s', (input, expected) => {
    expect(redact(input)).toBe(expected)
    expect(redact(input)).not.toContain('hunter2')
  })

  it('leaves ordinary text alone, including prose about passwords', () => {
    const text = 'WRONGPASS invalid username-password pair or user is disabled.'
    expect(redact(text)).toBe(text)
    expect(redact('NOAUTH Authentication required.')).toBe('NOAUTH Authentication required.')
    expect(redact('connect ECONNREFUSED 127.0.0.1:6379')).toBe('connect ECONNREFUSED 127.0.0.1:6379')
  })

  it('scrubs an error in place: message, stack, command arguments, causes', () => {
    const inner = Object.assign(new Error('AUTH hunter2 failed'), {
      command: { name: 'auth', args: ['hunter2'] },
    })
    const outer = new Error('see redis://u:hunter2@h:1', { cause: inner })
    redactError(outer)
    expect(outer.message).not.toContain('hunter2')
    expect(outer.stack).not.toContain('hunter2')
    expect(inner.message).not.toContain('hunter2')
    expect((inner as unknown as { command: unknown }).command).toEqual({ name: 'auth' })
  })
})
