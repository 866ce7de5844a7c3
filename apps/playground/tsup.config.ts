import { defineConfig } from 'tsup'

// An app, not a library: one ESM entry, no types. Dependencies (the @x packages included) stay
// external, so the built app runs against the same package builds a user would install.
export default defineConfig({
  entry: ['src/main.ts'],
  format: ['esm'],
  clean: true,
  sourcemap: true,
  target: 'node20',
  platform: 'node',
})
