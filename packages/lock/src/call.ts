import {
  createRedisCaller,
  type RedisCaller,
  type RedisClient,
  type Script,
  type ScriptArg,
} from '@x/redis-core'

/** One script call on one server under the instance's Redis-call deadline. */
export type ScriptCaller = <T>(
  server: RedisClient,
  script: Script<T>,
  keys: readonly string[],
  args: readonly ScriptArg[],
) => Promise<T>

/**
 * The instance's way to Redis: every script call of every primitive goes through core's
 * `createRedisCaller` for its server (deadline, NOSCRIPT handled once, errors mapped, writes of a
 * tick coalesced), and every failure is counted for `stats().redisErrors`.
 */
export function createScriptCaller(
  servers: readonly RedisClient[],
  timeoutMs: number,
  onRedisError: () => void,
): ScriptCaller {
  const callers = new Map<RedisClient, RedisCaller>(
    servers.map((server) => [server, createRedisCaller(server, { timeoutMs })]),
  )
  const counted = (error: unknown): never => {
    onRedisError()
    throw error
  }
  return <T>(server: RedisClient, script: Script<T>, keys: readonly string[], args: readonly ScriptArg[]) =>
    callers.get(server)!.scriptThen(script, keys, args, identity<T>, counted)
}

const identity = <T>(reply: T): T => reply
