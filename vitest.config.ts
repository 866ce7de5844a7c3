import { defineConfig } from 'vitest/config'

// Lets `vitest` run from the root (IDEs); `pnpm test` runs each package through turbo.
export default defineConfig({
  test: { projects: ['packages/*', 'apps/*'] },
})
