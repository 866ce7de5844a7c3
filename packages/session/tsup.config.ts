import { defineConfig, type Options } from 'tsup'
import shared from '../../tsup.shared.js'

// The framework integrations are subpath entries, so importing @x/session never loads them.
export default defineConfig({
  ...(shared as Options),
  entry: ['src/index.ts', 'src/fastify/index.ts', 'src/hono/index.ts'],
})
