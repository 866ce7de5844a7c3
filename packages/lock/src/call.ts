import type { DeadlineQueue, RedisClient, Script, ScriptArg } from '@x/redis-core'

/** Runs a script under the queue's timeout; connection errors become RedisUnavailableError. */
export function runScript<T>(
  deadlines: DeadlineQueue,
  script: Script<T>,
  server: RedisClient,
  keys: readonly string[],
  args: readonly ScriptArg[],
): Promise<T> {
  return deadlines.run(script.run(server, keys, args), script.name)
}
