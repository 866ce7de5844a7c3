import {
  createRedisCaller,
  type RedisCaller,
  type RedisClient,
  type Script,
  type ScriptArg,
} from '@x/redis-core'

/** One script call on one server under the instance's Redis-call deadline; KEYS and ARGV typed by the script. */
export type ScriptCaller = <R, K extends readonly string[], A extends readonly ScriptArg[]>(
  server: RedisClient,
  script: Script<R, K, A>,
  keys: NoInfer<K>,
  args: NoInfer<A>,
) => Promise<R>

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
  return <R, K extends readonly string[], A extends readonly ScriptArg[]>(
    server: RedisClient,
    script: Script<R, K, A>,
    keys: NoInfer<K>,
    args: NoInfer<A>,
  ) => callers.get(server)!.scriptThen(script, keys, args, identity<R>, counted)
}

const identity = <T>(reply: T): T => reply
