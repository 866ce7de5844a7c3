import { defineConfig } from 'tsup'

// One ESM entry for `node dist/main.js`. Dependencies (the @x packages, the peers, ioredis) stay
// external, so the bench measures the very builds users install.
export default defineConfig({
  entry: ['src/main.ts'],
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  clean: true,
  sourcemap: true,
  splitting: false,
})
