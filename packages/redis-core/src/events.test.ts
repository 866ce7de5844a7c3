import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest'
import { TimeoutError } from './errors.js'
import { createEmitter, type ErrorEvent } from './events.js'

type Events = { hit: { key: string }; error: ErrorEvent }

describe('createEmitter', () => {
  let print: MockInstance<typeof console.error>
  beforeEach(() => {
    print = vi.spyOn(console, 'error').mockImplementation(() => {})
  })
  afterEach(() => {
    print.mockRestore()
  })

  it('calls listeners, and on() returns a remover', () => {
    const emitter = createEmitter<Events>({ name: '@x/cache' })
    const seen: string[] = []
    expect(emitter.has('hit')).toBe(false)
    const off = emitter.on('hit', ({ key }) => seen.push(key))
    expect(emitter.has('hit')).toBe(true)
    emitter.emit('hit', { key: 'a' })
    off()
    emitter.emit('hit', { key: 'b' })
    expect(seen).toEqual(['a'])
    expect(emitter.has('hit')).toBe(false)
  })

  it('a throwing or rejecting listener breaks nothing, is reported once, and the others still run', async () => {
    const emitter = createEmitter<Events>({ name: '@x/cache' })
    const after = vi.fn()
    emitter.on('hit', () => {
      throw new Error('listener bug')
    })
    emitter.on('hit', async () => {
      throw new Error('async listener bug')
    })
    emitter.on('hit', after)
    for (let i = 0; i < 3; i++) expect(() => emitter.emit('hit', { key: 'k' })).not.toThrow()
    expect(after).toHaveBeenCalledTimes(3)
    await vi.waitFor(() => expect(print).toHaveBeenCalledTimes(2))
    expect(String(print.mock.calls[0]?.[0])).toContain('[@x/cache] a listener for "hit" threw')
    expect(print.mock.calls.map((call) => String(call[1]))).toEqual(['listener bug', 'async listener bug'])
  })

  it('hands every listener error to onListenerError when given', () => {
    const onListenerError = vi.fn()
    const emitter = createEmitter<Events>({ onListenerError })
    emitter.on('hit', () => {
      throw new Error('x')
    })
    emitter.emit('hit', { key: 'k' })
    emitter.emit('hit', { key: 'k' })
    expect(onListenerError).toHaveBeenCalledTimes(2)
    expect(onListenerError.mock.calls[0]?.[1]).toBe('hit')
    expect(print).not.toHaveBeenCalled()
  })

  it('still accepts the former onListenerError function argument', () => {
    const onListenerError = vi.fn()
    const emitter = createEmitter<Events>(onListenerError)
    emitter.on('hit', () => {
      throw new Error('x')
    })
    emitter.emit('hit', { key: 'k' })
    expect(onListenerError).toHaveBeenCalledOnce()
  })

  describe('the error event default', () => {
    it('prints one line with the package, operation and message when nobody listens', () => {
      const emitter = createEmitter<Events>({ name: '@x/cache' })
      emitter.emit('error', {
        operation: 'refresh',
        error: new TimeoutError('GET did not finish within 5 ms'),
      })
      expect(print).toHaveBeenCalledExactlyOnceWith(
        '[@x/cache] refresh failed: GET did not finish within 5 ms',
      )
    })

    it('prints at most one line per operation and code within the interval', () => {
      const emitter = createEmitter<Events>({ name: '@x/lock' })
      const timeout = () => new TimeoutError('slow')
      emitter.emit('error', { operation: 'extend', error: timeout() })
      emitter.emit('error', { operation: 'extend', error: timeout() })
      emitter.emit('error', { operation: 'extend', error: new Error('WRONGTYPE') })
      emitter.emit('error', { operation: 'release', error: timeout() })
      emitter.emit('error', { operation: 'release', error: timeout() })
      expect(print.mock.calls.map((call) => call[0])).toEqual([
        '[@x/lock] extend failed: slow',
        '[@x/lock] extend failed: WRONGTYPE',
        '[@x/lock] release failed: slow',
      ])
    })

    it('prints again once the interval has passed', () => {
      const emitter = createEmitter<Events>({ name: '@x/lock', errorLogIntervalMs: 0 })
      emitter.emit('error', { operation: 'extend', error: new Error('a') })
      emitter.emit('error', { operation: 'extend', error: new Error('a') })
      expect(print).toHaveBeenCalledTimes(2)
    })

    it('redacts secrets and maps raw client errors', () => {
      const emitter = createEmitter<Events>({ name: '@x/session' })
      emitter.emit('error', {
        operation: 'touch',
        error: new Error('connect ECONNREFUSED redis://app:hunter2@10.0.0.1:6379'),
      })
      const line = String(print.mock.calls[0]?.[0])
      expect(line).toMatch(/^\[@x\/session\] touch failed: /)
      expect(line).not.toContain('hunter2')
      expect(line).toContain('***')
    })

    it('is silent when someone listens to error', () => {
      const emitter = createEmitter<Events>({ name: '@x/cache' })
      const heard: ErrorEvent[] = []
      emitter.on('error', (event) => heard.push(event))
      emitter.emit('error', { operation: 'refresh', error: new Error('x'), key: 'user:1' })
      expect(heard).toHaveLength(1)
      expect(print).not.toHaveBeenCalled()
    })
  })
})
