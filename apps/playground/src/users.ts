import { noteFetch } from './cache-outcome.js'
import { findUser, findUsers, type User, type UserPatch, updateUser } from './db/users.js'
import type { Services } from './services.js'

const userKey = (id: number) => `user:${id}`
/** Every user entry carries its own tag and the group tag, so one call can drop them all. */
const userTags = (id: number) => [userKey(id), 'users']

/** Cache-aside: L1, then Redis, then the database (one fetch per key however many ask at once). */
export function getUser(services: Services, id: number): Promise<User | null> {
  return services.cache.getOrSet<User | null>(
    userKey(id),
    async (context) => {
      noteFetch()
      const user = await findUser(services.db, id)
      // A missing user is cached too (no hammering the database with unknown ids), but briefly.
      if (user === null) context.setTtlMs(5000)
      return user
    },
    { tags: userTags(id) },
  )
}

/** One batched database query for every id missing from the cache. */
export async function getUsers(services: Services, ids: readonly number[]): Promise<Array<User | null>> {
  const values = await services.cache.getOrSetMany<User | null>(
    ids.map(userKey),
    async (keys) => {
      const found = await findUsers(
        services.db,
        keys.map((key) => Number(key.slice('user:'.length))),
      )
      return keys.map((key) => found.get(Number(key.slice('user:'.length))) ?? null)
    },
    { tags: ['users'] },
  )
  return values.map((value) => value ?? null)
}

/**
 * Write-through: the cache entry is invalidated, the database is updated, and the result is stored
 * unless something changed the key meanwhile, so no older value can overwrite it; the invalidation
 * bus evicts the key from every other instance's L1.
 */
export function saveUser(services: Services, id: number, patch: UserPatch): Promise<User | null> {
  return services.cache.update<User | null>(userKey(id), () => updateUser(services.db, id, patch), {
    tags: userTags(id),
  })
}

/** Drops every cached user on every instance: one round trip, whatever the number of entries. */
export function invalidateUsers(services: Services): Promise<void> {
  return services.cache.invalidateTags(['users'])
}

/** Drops one user's entry on every instance, so the next read goes to the database. */
export async function forgetUser(services: Services, id: number): Promise<void> {
  await services.cache.delete(userKey(id))
}
