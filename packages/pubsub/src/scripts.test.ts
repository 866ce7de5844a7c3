import { describe, expect, it } from 'vitest'
import { deadLetterScript } from './dead-letter.lua.js'
import { reclaimScript } from './reclaim.lua.js'

// A changed script is a new SHA on every server: pinning them makes an accidental change visible in review.
describe('Lua scripts', () => {
  it.each([
    [deadLetterScript, 'pubsub:dead-letter', '607a99a4bf82f6528e405ac8fd68f7b1ea8d3520'],
    [reclaimScript, 'pubsub:reclaim', '685bd9fb951c3b859b2afbc41c407d873d934dd5'],
  ] as const)('$1 keeps its name and SHA', (script, name, sha) => {
    expect(script.name).toBe(name)
    expect(script.sha).toBe(sha)
  })
})
