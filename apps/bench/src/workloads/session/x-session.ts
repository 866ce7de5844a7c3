import { createSessionStore } from '@x/session'
import { guard } from '../../harness/runner.js'
import type { ContenderFactory } from '../../harness/types.js'
import { IMPLEMENTATION } from '../../scenario-names.js'
import { IDLE_TIMEOUT_MS, SESSION_COUNT, SESSION_DATA, type SessionFamily } from './families.js'

/**
 * @x/session get(): one Lua call that checks the token's hash, both timeouts and slides the idle
 * expiry when the last slide is older than touchInterval (default 60 s, so a read usually writes
 * nothing). The second contender sets touchInterval to 1 ms: every read slides, the worst case.
 */
function reader(implementation: string, touchInterval: number | undefined): ContenderFactory {
  return guard(implementation, async ({ redis, prefix }) => {
    const store = createSessionStore({
      redis,
      prefix: prefix('x-session'),
      idleTimeoutMs: IDLE_TIMEOUT_MS,
      ...(touchInterval === undefined ? {} : { touchIntervalMs: touchInterval }),
    })
    const tokens: string[] = []
    for (let index = 0; index < SESSION_COUNT; index++) {
      const { token } = await store.create(`user-${index}`, SESSION_DATA, {
        device: { userAgent: 'bench', ip: '127.0.0.1' },
      })
      tokens.push(token)
    }
    return {
      implementation,
      operation: async (_worker, iteration) => {
        const session = await store.get(tokens[iteration % SESSION_COUNT]!)
        if (session === null) throw new Error('a live session read as null')
        return session
      },
    }
  })
}

export const xSession: SessionFamily = {
  implementation: IMPLEMENTATION.xSession,
  read: reader(IMPLEMENTATION.xSession, undefined),
}

export const xSessionTouchEveryRead: SessionFamily = {
  implementation: IMPLEMENTATION.xSessionTouchEveryRead,
  read: reader(IMPLEMENTATION.xSessionTouchEveryRead, 1),
}
