import { it } from 'vitest'

// Run by fixtures.test.ts in a child vitest: a test that "passes" while a promise rejects unseen.
it('leaves a rejection unhandled', async () => {
  void Promise.reject(new Error('nobody handled me'))
  await new Promise((resolve) => setTimeout(resolve, 10))
})
