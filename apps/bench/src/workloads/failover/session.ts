import { createSessionStore } from '@x/session'
import { IMPLEMENTATION } from '../../scenario-names.js'
import { SESSION_DATA } from '../session/families.js'
import { type FailoverCase, inBatches } from './case.js'

const USERS = 10
const SESSIONS_PER_USER = 100

/**
 * @x/session get() with its defaults. A session's slot is its user's (the token's tag), so the
 * sessions belong to users whose tag is on the failing shard. A live session read as null is a
 * wrong answer, counted as "read as missing".
 */
export const sessionCase: FailoverCase = {
  implementation: IMPLEMENTATION.xSession,
  operation: `get (${USERS * SESSIONS_PER_USER} live sessions)`,
  async open({ redis, shard, prefix }) {
    const store = createSessionStore({ redis, prefix })
    const users: string[] = []
    const tokens: string[] = []
    for (let index = 0; users.length < USERS; index++) {
      const user = `user-${index}`
      const { token } = await store.create(user, SESSION_DATA)
      const tag = token.split('.')[0]!
      if (!shard.has(`{${tag}}`)) continue
      users.push(user)
      tokens.push(token)
    }
    await inBatches(
      users.flatMap((user) => Array.from({ length: SESSIONS_PER_USER - 1 }, () => user)),
      100,
      async (user) => tokens.push((await store.create(user, SESSION_DATA)).token),
    )
    return {
      async call(_worker, iteration) {
        const session = await store.get(tokens[iteration % tokens.length]!)
        return session === null ? 'read as missing' : undefined
      },
      close() {},
    }
  },
}
