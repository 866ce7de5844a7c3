import { DecodeError } from '@x/redis-core'
import { describe, expect, it } from 'vitest'
import { eventCodec, maxEventBytes, nestingDepth } from './event-codec.js'

const message = { id: 1, author: 'Ada', body: 'hi', instance: 'A', createdAt: '2026-01-01T00:00:00.000Z' }

describe('eventCodec', () => {
  it('round-trips every event the app publishes', () => {
    const events = [
      { type: 'message', message },
      { type: 'job', jobId: 'reindex', fence: 3, instance: 'B', status: 'started', waitedMs: 12 },
      { type: 'user-updated', userId: 1, version: 2, instance: 'A' },
      { type: 'rate-limited', key: 'ip', instance: 'A' },
    ] as const
    for (const event of events) expect(eventCodec.decode(eventCodec.encode(event))).toEqual(event)
  })

  it('keeps only the known fields', () => {
    const decoded = eventCodec.decode(
      JSON.stringify({ type: 'rate-limited', key: 'ip', instance: 'A', x: [1] }),
    )
    expect(decoded).toEqual({ type: 'rate-limited', key: 'ip', instance: 'A' })
  })

  it('refuses deep nesting and oversized payloads before parsing them, and foreign shapes', () => {
    const deep = `{"type":"job","x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`
    const big = JSON.stringify({ type: 'message', message: { ...message, body: 'x'.repeat(maxEventBytes) } })
    for (const raw of [deep, big, 'not json', '{"type":"message"}', '[]', '{"type":"job","fence":"1"}']) {
      expect(() => eventCodec.decode(raw)).toThrow(DecodeError)
    }
  })

  it('counts nesting outside strings only', () => {
    expect(nestingDepth('{"a":"[[[[{{{{\\"[[["}')).toBe(1)
    expect(nestingDepth('[[{"a":[1]}]]')).toBe(4)
  })
})
