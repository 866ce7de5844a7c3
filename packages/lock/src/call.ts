import { type RedisClient, redisCall, type Script, type ScriptArg } from '@x/redis-core'

/** Runs a script with a per-operation timeout: the user's client may have no command timeout. */
export function runScript<T>(
  script: Script<T>,
  server: RedisClient,
  keys: readonly string[],
  args: readonly ScriptArg[],
  timeoutMs: number,
): Promise<T> {
  return redisCall(script.run(server, keys, args), timeoutMs, script.name)
}
