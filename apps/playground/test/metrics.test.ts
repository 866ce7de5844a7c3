import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { login, sendJson } from './harness/http.js'
import { type Playground, startPlayground } from './harness/playground.js'

const userLimitPerMinute = 3
const wrongPassword = 'not-the-password-7f3a'

let playground: Playground
let cookie: string

beforeAll(async () => {
  playground = await startPlayground({
    RATE_LIMIT_USER_PER_MINUTE: String(userLimitPerMinute),
    RATE_LIMIT_IP_PER_MINUTE: '100000',
    LOGIN_ATTEMPTS_PER_IP: '100000',
  })
  const { a } = playground
  // A refused sign-in, so that the password sent is something the metrics could have seen.
  expect(
    (await sendJson(a, 'POST', '/login', { email: 'ada@example.com', password: wrongPassword })).status,
  ).toBe(401)
  cookie = await login(a, 'ada@example.com')
  // Reads until the user budget refuses one: a miss, hits, and a limited decision.
  let status = 200
  for (let i = 0; i < 4 * userLimitPerMinute && status !== 429; i++) {
    status = (await a.fetch('/users/2', { headers: { cookie } })).status
  }
  expect(status).toBe(429)
}, 180_000)

afterAll(async () => {
  await playground?.stop()
}, 60_000)

/** The sample lines of one metric (not its HELP/TYPE comments). */
const samples = (text: string, name: string) =>
  text.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))

describe('GET /metrics', () => {
  it('answers Prometheus text without a session: cache requests by outcome, limiter decisions, sessions', async () => {
    const response = await playground.a.fetch('/metrics')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    // Rate-limited like every route.
    expect(response.headers.get('ratelimit-policy')).toContain('"ip"')
    const text = await response.text()
    expect(text).toContain('# TYPE x_cache_requests_total counter')
    const cache = samples(text, 'x_cache_requests_total')
    expect(cache.some((line) => line.includes('x_outcome="miss"'))).toBe(true)
    expect(cache.some((line) => /x_outcome="hit-l1"|x_outcome="hit-l2"/.test(line))).toBe(true)
    const limited = samples(text, 'x_ratelimit_decisions_total').find(
      (line) => line.includes('x_operation="limit"') && line.includes('x_outcome="limited"'),
    )
    expect(limited).toBeDefined()
    expect(Number(limited!.split(' ').at(-1))).toBeGreaterThanOrEqual(1)
    expect(
      samples(text, 'x_session_operations_total').some((line) => line.includes('x_outcome="created"')),
    ).toBe(true)
    expect(text).toContain('# TYPE x_operation_duration histogram')
  })

  it('never carries a session token, a password or an e-mail', async () => {
    const text = await (await playground.a.fetch('/metrics')).text()
    const token = decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1))
    expect(token.length).toBeGreaterThan(16)
    expect(text).not.toContain(token)
    for (const part of token.split(/[.:]/).filter((piece) => piece.length >= 8))
      expect(text).not.toContain(part)
    expect(text).not.toContain(wrongPassword)
    expect(text).not.toContain('@example.com')
    expect(text).not.toContain('user:2')
  })

  it('each instance counts its own operations; a read on B shows up in B’s metrics', async () => {
    const { b } = playground
    const before = (await (await b.fetch('/metrics/summary')).json()) as { cache: Record<string, number> }
    const total = (counts: Record<string, number>) => Object.values(counts).reduce((sum, n) => sum + n, 0)
    const other = await login(b, 'grace@example.com')
    expect((await b.fetch('/users/3', { headers: { cookie: other } })).status).toBe(200)
    // Recorded when the read finished, before its response was sent.
    const after = (await (await b.fetch('/metrics/summary')).json()) as { cache: Record<string, number> }
    expect(total(after.cache)).toBeGreaterThan(total(before.cache))
  })

  it('GET /metrics/summary gives the page its counters and recent spans, from the same collection', async () => {
    const summary = (await (await playground.a.fetch('/metrics/summary')).json()) as {
      cache: Record<string, number>
      ratelimit: Record<string, number>
      session: Record<string, number>
      spans: number
      recentSpans: Array<{ name: string; outcome?: string }>
    }
    expect(summary.cache.miss).toBeGreaterThanOrEqual(1)
    expect(summary.ratelimit.limited).toBeGreaterThanOrEqual(1)
    expect(summary.session.created).toBeGreaterThanOrEqual(1)
    expect(summary.spans).toBeGreaterThan(0)
    expect(summary.recentSpans.length).toBeGreaterThan(0)
    expect(
      summary.recentSpans.every((span) => /^(cache|ratelimit|lock|session|pubsub) \w+$/.test(span.name)),
    ).toBe(true)
    expect(JSON.stringify(summary)).not.toContain('@example.com')
  })
})
