import { defineConfig, type Options } from 'tsup'
import shared from '../../tsup.shared.js'

const base = shared as Options

// nanoid 5 is ESM only and Node 20 before 20.19 cannot require() an ES module, so the CommonJS
// build carries its own copy of it; the ES module build imports the dependency.
export default defineConfig([
  { ...base, format: ['esm'] },
  { ...base, format: ['cjs'], noExternal: ['nanoid'], clean: false },
])
