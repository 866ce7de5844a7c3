import { defineConfig } from 'tsup'

/** The build every published package shares: ESM + CJS with types for both, for Node 20+. */
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  treeshake: true,
})
