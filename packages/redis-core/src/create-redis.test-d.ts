import type { Cluster, Redis } from 'ioredis'
import { describe, expectTypeOf, it } from 'vitest'
import { createRedis, type RedisClient } from './create-redis.js'
import { RedisUnavailableError } from './errors.js'
import { sharedRedis } from './shared-redis.js'

describe('createRedis return type', () => {
  it('is Redis without cluster input', () => {
    expectTypeOf(createRedis()).toEqualTypeOf<Redis>()
    expectTypeOf(createRedis({ url: 'redis://localhost:6379' })).toEqualTypeOf<Redis>()
    expectTypeOf(createRedis({ sentinels: [{ host: 's', port: 26379 }] })).toEqualTypeOf<Redis>()
    expectTypeOf(createRedis({ cluster: false })).toEqualTypeOf<Redis>()
  })

  it('is Cluster with clusterNodes or cluster: true', () => {
    expectTypeOf(createRedis({ clusterNodes: [{ host: 'a', port: 7000 }] })).toEqualTypeOf<Cluster>()
    expectTypeOf(createRedis({ cluster: true })).toEqualTypeOf<Cluster>()
  })

  it("is either with cluster: 'auto' or options of unknown shape", () => {
    expectTypeOf(createRedis({ cluster: 'auto' })).toEqualTypeOf<RedisClient>()
    const connection = {} as { url: string } | { clusterNodes: Array<{ host: string; port: number }> }
    expectTypeOf(createRedis(connection)).toEqualTypeOf<RedisClient>()
  })

  it('does not let a Cluster pass for a Redis', () => {
    // @ts-expect-error a Cluster is not a Redis: code typed for one server would misuse it
    const server: Redis = createRedis({ cluster: true })
    expectTypeOf(server).toEqualTypeOf<Redis>()
  })

  it('follows the same rules in sharedRedis, which takes a name', () => {
    expectTypeOf(sharedRedis({ name: 'cache' })).toEqualTypeOf<Redis>()
    expectTypeOf(sharedRedis({ name: 'cache', cluster: true })).toEqualTypeOf<Cluster>()
  })
})

describe('RedisUnavailableError', () => {
  it('narrows to its connection facts', () => {
    const error: unknown = undefined
    if (RedisUnavailableError.isInstance(error)) {
      expectTypeOf(error.code).toEqualTypeOf<'E_REDIS_UNAVAILABLE'>()
      expectTypeOf(error.address).toEqualTypeOf<string | undefined>()
      expectTypeOf(error.rootCause).toEqualTypeOf<string | undefined>()
      expectTypeOf(error.neverConnected).toEqualTypeOf<boolean | undefined>()
    }
  })
})
