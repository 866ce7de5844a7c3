import { it } from 'vitest'

// Run by fixtures.test.ts in a child vitest: tests that "pass" while something fails unseen.
it('leaves a rejection unhandled', async () => {
  void Promise.reject(new Error('nobody handled me'))
  await new Promise((resolve) => setTimeout(resolve, 10))
})

it('throws from a timer', async () => {
  setImmediate(() => {
    throw new Error('thrown where nobody catches')
  })
  await new Promise((resolve) => setTimeout(resolve, 10))
})

it('passes cleanly', () => {})
