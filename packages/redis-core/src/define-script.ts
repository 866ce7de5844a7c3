import { createHash } from 'node:crypto'
import { groupBySlot, masters } from './cluster.js'
import type { RedisClient } from './create-redis.js'
import { toRedisError } from './redis-error.js'

export type ScriptArg = string | number | Buffer

export interface ScriptDefinition {
  /** Used in error messages and metrics. */
  name: string
  /** Number of KEYS the script takes; checked on every call. */
  keys: number
  /** The Lua source. Start it with a comment listing KEYS and ARGV. */
  lua: string
}

export interface Script<TResult> {
  readonly name: string
  readonly sha: string
  readonly lua: string
  /**
   * One EVALSHA; on NOSCRIPT (a restarted or flushed server, a new Cluster node), one EVAL that
   * also caches the script again. On Cluster the call is routed by the first key, so every key
   * must share its hash slot (use `keyspace().tagged()`).
   */
  run(client: RedisClient, keys: readonly string[], args?: readonly ScriptArg[]): Promise<TResult>
  /**
   * Many calls in one pipeline per hash slot (one per server when not on Cluster). Each entry of
   * the result is the call's reply or its error, in input order. Calls that meet NOSCRIPT are
   * retried one by one through `run`.
   */
  runMany(client: RedisClient, calls: readonly ScriptCall[]): Promise<Array<TResult | Error>>
  /**
   * SCRIPT LOAD on every master, so that the first call on each node is one EVALSHA rather than
   * EVALSHA + EVAL. Optional: `run` recovers from NOSCRIPT by itself.
   */
  load(client: RedisClient): Promise<void>
}

export interface ScriptCall {
  keys: readonly string[]
  args?: readonly ScriptArg[]
}

/**
 * A typed Lua script runner. `TResult` is what the script returns as ioredis decodes it
 * (remember: Lua `false` arrives as `null`, Lua numbers as integers).
 */
export function defineScript<TResult = unknown>(definition: ScriptDefinition): Script<TResult> {
  const { name, keys: keyCount, lua } = definition
  const sha = createHash('sha1').update(lua).digest('hex')

  const checkKeys = (keys: readonly string[]) => {
    if (keys.length !== keyCount)
      throw new TypeError(`script ${name} takes ${keyCount} keys, got ${keys.length}`)
  }

  const script: Script<TResult> = {
    name,
    sha,
    lua,
    async run(client, keys, args = []) {
      checkKeys(keys)
      try {
        return (await client.evalsha(sha, keyCount, ...keys, ...args)) as TResult
      } catch (error) {
        if (!isNoScript(error)) throw toRedisError(error)
      }
      try {
        return (await client.eval(lua, keyCount, ...keys, ...args)) as TResult
      } catch (error) {
        throw toRedisError(error)
      }
    },
    async load(client) {
      try {
        await Promise.all(masters(client).map((node) => node.script('LOAD', lua)))
      } catch (error) {
        throw toRedisError(error)
      }
    },
    async runMany(client, calls) {
      for (const call of calls) checkKeys(call.keys)
      const indexed = calls.map((call, index) => ({ call, index }))
      const groups = groupBySlot(client, indexed, (entry) => entry.call.keys[0] ?? '')
      const results: Array<TResult | Error> = new Array(calls.length)
      await Promise.all(
        groups.map(async (group) => {
          const pipeline = client.pipeline()
          for (const { call } of group) pipeline.evalsha(sha, keyCount, ...call.keys, ...(call.args ?? []))
          let replies: Array<[Error | null, unknown]>
          try {
            replies = ((await pipeline.exec()) ?? []) as Array<[Error | null, unknown]>
          } catch (error) {
            throw toRedisError(error)
          }
          await Promise.all(
            group.map(async ({ call, index }, position) => {
              const [error, value] = replies[position] ?? [new Error('missing pipeline reply'), null]
              if (!error) results[index] = value as TResult
              else if (isNoScript(error)) {
                results[index] = await script.run(client, call.keys, call.args).catch((e: Error) => e)
              } else results[index] = toRedisError(error) as Error
            }),
          )
        }),
      )
      return results
    },
  }
  return script
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT')
}
