import { describe, expect, it } from 'vitest'
import { headers } from './headers.js'
import { type PolicyResult, type RateLimitResult, summarize } from './result.js'

const policy = (overrides: Partial<PolicyResult>): PolicyResult => ({
  name: 'default',
  algorithm: 'gcra',
  limit: 10,
  windowMs: 1000,
  remaining: 5,
  resetMs: 500,
  retryAfterMs: 0,
  ...overrides,
})

const at = 1_700_000_000_000.5

describe('headers', () => {
  it('one policy, admitted: RateLimit and RateLimit-Policy, no Retry-After', () => {
    const result = summarize(true, [policy({})], at, undefined)
    expect(headers(result)).toEqual({
      RateLimit: '"default";r=5;t=1',
      'RateLimit-Policy': '"default";q=10;w=1',
    })
  })

  it('a fail-open result advertises no remaining budget: no RateLimit or X-RateLimit-* fields, only the policy', () => {
    const result = summarize(true, [policy({ remaining: 0, resetMs: 0 })], at, 'fail-open')
    expect(headers(result, { legacy: true })).toEqual({ 'RateLimit-Policy': '"default";q=10;w=1' })
  })

  it('several named policies, rejected: each listed, Retry-After rounded up', () => {
    const result = summarize(
      false,
      [
        policy({ name: 'second', remaining: 0, resetMs: 1001, retryAfterMs: 1001 }),
        policy({ name: 'day', limit: 1000, windowMs: 86_400_000, remaining: 941, resetMs: 50_000_000 }),
      ],
      at,
      'limited',
    )
    expect(headers(result)).toEqual({
      RateLimit: '"second";r=0;t=2, "day";r=941;t=50000',
      'RateLimit-Policy': '"second";q=10;w=1, "day";q=1000;w=86400',
      'Retry-After': '2',
    })
  })

  it('Retry-After is at least 1 s and absent when the cost can never fit', () => {
    const soon = summarize(false, [policy({ remaining: 0, retryAfterMs: 3 })], at, 'limited')
    expect(headers(soon)['Retry-After']).toBe('1')
    const never = summarize(
      false,
      [policy({ retryAfterMs: Number.POSITIVE_INFINITY })],
      at,
      'cost-exceeds-limit',
    )
    expect(headers(never)['Retry-After']).toBeUndefined()
  })

  it('legacy X-RateLimit-* fields on request, reset as delta or epoch seconds', () => {
    const result: RateLimitResult = summarize(true, [policy({ resetMs: 2500 })], at, undefined)
    expect(headers(result, { legacy: true, policy: false })).toEqual({
      RateLimit: '"default";r=5;t=3',
      'X-RateLimit-Limit': '10',
      'X-RateLimit-Remaining': '5',
      'X-RateLimit-Reset': '3',
    })
    expect(headers(result, { legacy: true, legacyReset: 'epoch-seconds' })['X-RateLimit-Reset']).toBe(
      String(Math.ceil((Math.floor(at) + 2500) / 1000)),
    )
  })

  it('the top-level fields follow the tightest policy', () => {
    const result = summarize(
      true,
      [policy({ name: 'a', remaining: 7 }), policy({ name: 'b', limit: 3, remaining: 2, resetMs: 900 })],
      at,
      undefined,
    )
    expect([result.limit, result.remaining, result.resetMs, result.resetAt]).toEqual([
      3,
      2,
      900,
      Math.floor(at) + 900,
    ])
    expect(headers(result, { legacy: true, retryAfter: false })['X-RateLimit-Limit']).toBe('3')
  })
})
