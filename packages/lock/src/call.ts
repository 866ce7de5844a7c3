import { createDeadlineQueue, type RedisClient, type Script, type ScriptArg } from '@x/redis-core'

/** One script call on one server under the instance's Redis-call deadline. */
export type ScriptCaller = <T>(
  server: RedisClient,
  script: Script<T>,
  keys: readonly string[],
  args: readonly ScriptArg[],
) => Promise<T>

/**
 * The instance's way to Redis: every script call of every primitive goes through it, so the
 * deadline (`TimeoutError`, connection errors as `RedisUnavailableError`) and the `redisErrors`
 * count are the same everywhere.
 */
export function createScriptCaller(timeoutMs: number, onRedisError: () => void): ScriptCaller {
  const deadlines = createDeadlineQueue(timeoutMs)
  const counted = (error: unknown): never => {
    onRedisError()
    throw error
  }
  return <T>(server: RedisClient, script: Script<T>, keys: readonly string[], args: readonly ScriptArg[]) =>
    deadlines.run(script.run(server, keys, args) as Promise<T>, script.name).catch(counted)
}
