import { createHash } from 'node:crypto'
import { groupBySlot, masters } from './cluster.js'
import type { RedisClient } from './create-redis.js'
import { toRedisError } from './redis-error.js'

export type ScriptArg = string | number | Buffer

/**
 * The types of a script: KEYS and ARGV as (labelled) tuples and the result as ioredis decodes it
 * (Lua `false` arrives as `null`, Lua numbers as integers):
 * `{ keys: [entry: string]; args: [generation: number]; result: string | null }`.
 */
export interface ScriptTypes {
  keys: readonly string[]
  args: readonly ScriptArg[]
  result: unknown
}

/** `defineScript<R>` (the result type alone) or `defineScript<ScriptTypes>`, as ScriptTypes. */
export type ScriptSpec<D> = D extends ScriptTypes
  ? D
  : { keys: readonly string[]; args: readonly ScriptArg[]; result: D }

/** The `args` parameter of a call: optional only when the script takes no ARGV or is untyped. */
export type ScriptArgsParam<A extends readonly ScriptArg[]> = [] extends A ? [args?: A] : [args: A]

export interface ScriptDefinition<K extends readonly string[] = readonly string[]> {
  /** `<package>:<operation>` (`lock:acquire`, `cache:fill`); used in error messages and metrics. */
  name: string
  /** Number of KEYS the script takes (the length of the KEYS tuple); checked on every call. */
  keys: K['length']
  /** The Lua source. Start it with a comment listing KEYS and ARGV. */
  lua: string
}

/**
 * A Lua script: `R` is its result, `K` and `A` its KEYS and ARGV tuples (untyped lists for scripts
 * defined with `defineScript<R>`).
 */
export interface Script<
  R = unknown,
  K extends readonly string[] = readonly string[],
  A extends readonly ScriptArg[] = readonly ScriptArg[],
> {
  readonly name: string
  readonly sha: string
  readonly lua: string
  /** Number of KEYS. */
  readonly keys: K['length']
  /**
   * One EVALSHA; on NOSCRIPT (a restarted or flushed server, a new Cluster node), one EVAL that
   * also caches the script again. On Cluster the call is routed by the first key, so every key
   * must share its hash slot (use `keyspace().tagged()`). No deadline of its own: calls with a
   * deadline go through `createRedisCaller(redis).script(script, keys, args)`.
   */
  run(client: RedisClient, keys: K, ...args: ScriptArgsParam<A>): Promise<R>
  /**
   * Many calls in one pipeline per hash slot (one per server when not on Cluster). Each entry of
   * the result is the call's reply or its error, in input order. Calls that meet NOSCRIPT are
   * retried one by one through `run`.
   */
  runMany(client: RedisClient, calls: readonly ScriptCall[]): Promise<Array<R | Error>>
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
 * A typed Lua script. With its types, KEYS and ARGV are checked at every call site (and `keys`
 * must match the KEYS tuple's length):
 *
 * ```ts fragment
 * const fill = defineScript<{ keys: [entry: string]; args: [generation: number, value: string]; result: 0 | 1 }>({
 *   name: 'cache:fill',
 *   keys: 1,
 *   lua: FILL_LUA,
 * })
 * ```
 *
 * `defineScript<R>(…)` (the result type alone, untyped KEYS and ARGV) still works.
 */
export function defineScript<D = unknown>(
  definition: ScriptDefinition<ScriptSpec<D>['keys']>,
): Script<ScriptSpec<D>['result'], ScriptSpec<D>['keys'], ScriptSpec<D>['args']>
export function defineScript(definition: ScriptDefinition): Script {
  type TResult = unknown
  const { name, keys: keyCount, lua } = definition
  const sha = createHash('sha1').update(lua).digest('hex')

  const checkKeys = (keys: readonly string[]) => {
    if (keys.length !== keyCount)
      throw new TypeError(`script ${name} takes ${keyCount} keys, got ${keys.length}`)
  }

  const script = {
    name,
    sha,
    lua,
    keys: keyCount,
    async run(client: RedisClient, keys: readonly string[], args: readonly ScriptArg[] = []) {
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
    async load(client: RedisClient) {
      try {
        await Promise.all(masters(client).map((node) => node.script('LOAD', lua)))
      } catch (error) {
        throw toRedisError(error)
      }
    },
    async runMany(client: RedisClient, calls: readonly ScriptCall[]) {
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
  return script as Script
}

/** True for the NOSCRIPT error a server answers to an EVALSHA of a script it does not hold. */
export function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT')
}
