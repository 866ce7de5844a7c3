import { describe, expect, it, vi } from 'vitest'
import { callSafely } from './call-safely.js'

describe('callSafely', () => {
  it('returns what the callback returns', async () => {
    const onThrow = vi.fn()
    expect(callSafely(() => 42, onThrow)).toBe(42)
    await expect(callSafely(async () => 'x', onThrow)).resolves.toBe('x')
    expect(onThrow).not.toHaveBeenCalled()
  })

  it('sends a synchronous throw to onThrow and answers undefined', () => {
    const boom = new Error('boom')
    const onThrow = vi.fn()
    expect(
      callSafely(() => {
        throw boom
      }, onThrow),
    ).toBeUndefined()
    expect(onThrow).toHaveBeenCalledExactlyOnceWith(boom)
  })

  it('sends a rejection to onThrow; the returned promise resolves to undefined', async () => {
    const boom = new Error('later')
    const onThrow = vi.fn()
    await expect(callSafely(() => Promise.reject(boom), onThrow)).resolves.toBeUndefined()
    expect(onThrow).toHaveBeenCalledExactlyOnceWith(boom)
  })

  it('survives an onThrow that throws itself', () => {
    const print = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      expect(
        callSafely(
          () => {
            throw new Error('first')
          },
          () => {
            throw new Error('reporter')
          },
        ),
      ).toBeUndefined()
      expect(print).toHaveBeenCalledTimes(1)
    } finally {
      print.mockRestore()
    }
  })
})
