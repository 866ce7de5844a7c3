import { resolve } from 'node:path'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    root: import.meta.dirname,
    include: ['unhandled.fixture.ts'],
    setupFiles: [resolve(import.meta.dirname, '../unhandled-trap.ts')],
    // Only the trap may fail the run, not vitest's own end-of-run report.
    dangerouslyIgnoreUnhandledErrors: true,
  },
})
