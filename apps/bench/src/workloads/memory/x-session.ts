import { createSessionStore } from '@x/session'
import { IMPLEMENTATION } from '../../scenario-names.js'
import { IDLE_TIMEOUT_MS, SESSION_DATA } from '../session/families.js'
import type { MemoryProbe } from './families.js'
import { footprint } from './footprint.js'

export const xSessionProbes: MemoryProbe[] = [
  {
    implementation: IMPLEMENTATION.xSession,
    what: 'session (record + its user index, with device metadata)',
    async measure(context) {
      const prefix = context.prefix('mem')
      const store = createSessionStore({ redis: context.redis, prefix, idleTimeoutMs: IDLE_TIMEOUT_MS })
      await store.create('user-42', SESSION_DATA, { device: { userAgent: 'bench', ip: '127.0.0.1' } })
      return footprint(context.redis, prefix)
    },
  },
]
