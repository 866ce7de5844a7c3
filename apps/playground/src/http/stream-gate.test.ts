import { describe, expect, it } from 'vitest'
import { createStreamGate } from './stream-gate.js'

describe('createStreamGate', () => {
  it('caps streams per client and in total, and frees a slot once per release', () => {
    const gate = createStreamGate({ perClient: 2, total: 3 })
    const first = gate.enter('a')
    const second = gate.enter('a')
    expect(typeof first).toBe('function')
    expect(typeof second).toBe('function')
    expect(gate.enter('a')).toBe('client')
    const third = gate.enter('b')
    expect(typeof third).toBe('function')
    expect(gate.enter('c')).toBe('total')
    expect(gate.open).toBe(3)
    if (typeof first !== 'function') throw new Error('unreachable')
    first()
    first()
    expect(gate.open).toBe(2)
    expect(typeof gate.enter('a')).toBe('function')
    expect(gate.enter('a')).toBe('client')
  })
})
