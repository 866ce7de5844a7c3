import type { RedisClient } from './create-redis.js'
import { createDeadlineQueue, type DeadlineQueue, type TimedCall } from './deadline-queue.js'
import { isNoScript, type Script, type ScriptArg, type ScriptArgsParam } from './define-script.js'
import { InvalidArgumentError, TimeoutError } from './errors.js'
import { toRedisError } from './redis-error.js'
import { assertDuration } from './validate.js'
import { writeCoalescer } from './write-coalescer.js'

export interface RedisCallerOptions {
  /**
   * A call gives up after this long with `TimeoutError`, on a server and a Cluster alike, whatever
   * the client's own `commandTimeout` is (the one that is shorter wins).
   * @default 1000
   */
  timeoutMs?: number
  /**
   * Coalesce the writes of one tick into one socket write per connection (on a Cluster, per node;
   * see `writeCoalescer`). A lone call is never delayed.
   * @default true
   */
  coalesceWrites?: boolean
}

export interface RedisCaller {
  readonly redis: RedisClient
  readonly timeoutMs: number
  /**
   * Runs a script: EVALSHA; on NOSCRIPT one EVAL (a cold node costs two round trips). Rejects with
   * `TimeoutError` (`timeoutMs`) past the deadline, `RedisUnavailableError` when the connection
   * fails, the script's own error otherwise; never throws synchronously. Calls run in the order
   * they were made, except that a call answered NOSCRIPT runs again behind those already sent.
   */
  script<R, K extends readonly string[], A extends readonly ScriptArg[]>(
    script: Script<R, K, A>,
    keys: NoInfer<K>,
    ...args: ScriptArgsParam<NoInfer<A>>
  ): Promise<R>
  /**
   * `script` for hot paths that build their answer in the same promise: `onReply` gets the reply,
   * `onError` the mapped error (`TimeoutError`, `RedisUnavailableError`, a script error); what
   * either returns (or throws) settles the returned promise.
   */
  scriptThen<R, K extends readonly string[], A extends readonly ScriptArg[], T>(
    script: Script<R, K, A>,
    keys: NoInfer<K>,
    args: NoInfer<A>,
    onReply: (reply: R) => T | PromiseLike<T>,
    onError: (error: unknown) => T | PromiseLike<T>,
  ): Promise<T>
  /**
   * Puts a command already sent (or a function that sends it, so that a synchronous throw of the
   * client becomes a rejection) under the same deadline and error mapping. `what` names it in
   * the timeout message (`'GET'`, `'cache:publish'`). A function's writes are coalesced like
   * `call`'s; a promise was written before `run` saw it.
   */
  run<T>(command: Promise<T> | (() => Promise<T>), what: string): Promise<T>
  /** A plain command (`call('GET', key)`) with the same deadline, error mapping and write coalescing. */
  call<T = unknown>(command: string, ...args: ScriptArg[]): Promise<T>
}

/** EVALSHA / EVAL with keys and arguments passed as arrays (see `send`). */
type Flat = (
  shaOrLua: string,
  numkeys: number,
  keys: readonly string[],
  args: readonly ScriptArg[],
) => Promise<unknown>

const queues = new WeakMap<RedisClient, Map<number, DeadlineQueue>>()

/** The deadline queue shared by every caller of `redis` with this timeout: one timer, not one per call. */
function sharedQueue(redis: RedisClient, timeoutMs: number): DeadlineQueue {
  let byTimeout = queues.get(redis)
  if (!byTimeout) {
    byTimeout = new Map()
    queues.set(redis, byTimeout)
  }
  let queue = byTimeout.get(timeoutMs)
  if (!queue) {
    queue = createDeadlineQueue(timeoutMs)
    byTimeout.set(timeoutMs, queue)
  }
  return queue
}

/**
 * The one path from a package to Redis: deadline from a deadline queue shared per client and
 * timeout (no timer per call), NOSCRIPT answered by one EVAL, errors mapped and redacted once
 * (`toRedisError`), a synchronous throw of the client answered as a rejection, writes of one tick
 * coalesced per connection (per node on a Cluster). Cheap to create; callers of one client share
 * their queue and their coalescer.
 */
export function createRedisCaller(redis: RedisClient, options: RedisCallerOptions = {}): RedisCaller {
  const timeoutMs = assertDuration('timeoutMs', options.timeoutMs ?? 1000)
  const queue = sharedQueue(redis, timeoutMs)
  const coalesce = options.coalesceWrites === false ? () => {} : writeCoalescer(redis)
  const timeoutError = (what: string) =>
    new TimeoutError(`${what} did not finish within ${timeoutMs} ms`, { timeoutMs })

  /**
   * Sends EVALSHA (then EVAL on NOSCRIPT) for `call`. `ok` and `fail` settle only a call still
   * queued, so a reply after the deadline is dropped; a call refused before it was queued
   * (`deadline` still 0) fails at once.
   */
  const send = (
    script: Script<unknown, readonly string[], readonly ScriptArg[]>,
    keys: readonly string[],
    args: readonly ScriptArg[],
    call: TimedCall,
    ok: (reply: unknown) => void,
    fail: (error: unknown) => void,
  ) => {
    if (keys.length !== script.keys) {
      fail(new InvalidArgumentError(`script ${script.name} takes ${script.keys} keys, got ${keys.length}`))
      return
    }
    queue.add(call)
    coalesce()
    let sent: Promise<unknown>
    try {
      // Keys and arguments as two arrays: ioredis flattens a command's arguments one level
      // (Command constructor, `args.flat()`), so no spread array is built per call.
      sent = (redis.evalsha as unknown as Flat)(script.sha, keys.length, keys, args)
    } catch (error) {
      fail(error)
      return
    }
    sent.then(ok, (error: unknown) => {
      if (!isNoScript(error)) return fail(error)
      if (!call.queued) return
      let retry: Promise<unknown>
      try {
        retry = (redis.eval as unknown as Flat)(script.lua, keys.length, keys, args)
      } catch (retryError) {
        fail(retryError)
        return
      }
      retry.then(ok, fail)
    })
  }

  const caller: RedisCaller = {
    redis,
    timeoutMs,
    script(script, keys, ...rest) {
      const args = (rest[0] ?? []) as readonly ScriptArg[]
      return new Promise((resolve, reject) => {
        const call: TimedCall = {
          deadline: 0,
          expire: () => reject(timeoutError(script.name)),
          previous: undefined,
          next: undefined,
          queued: false,
        }
        send(
          script as Script<unknown, readonly string[], readonly ScriptArg[]>,
          keys,
          args,
          call,
          (reply) => {
            if (queue.settle(call)) resolve(reply as never)
          },
          (error) => {
            if (call.deadline === 0 || queue.settle(call)) reject(toRedisError(error, redis))
          },
        )
      })
    },
    scriptThen(script, keys, args, onReply, onError) {
      return new Promise((resolve, reject) => {
        const settle = (handler: (value: never) => unknown, value: unknown) => {
          try {
            resolve(handler(value as never) as never)
          } catch (error) {
            reject(error)
          }
        }
        const call: TimedCall = {
          deadline: 0,
          expire: () => settle(onError, timeoutError(script.name)),
          previous: undefined,
          next: undefined,
          queued: false,
        }
        send(
          script as Script<unknown, readonly string[], readonly ScriptArg[]>,
          keys,
          args,
          call,
          (reply) => {
            if (queue.settle(call)) settle(onReply, reply)
          },
          (error) => {
            if (call.deadline === 0 || queue.settle(call)) settle(onError, toRedisError(error, redis))
          },
        )
      })
    },
    run(command, what) {
      let promise: Promise<unknown>
      try {
        if (typeof command === 'function') {
          coalesce()
          promise = command()
        } else promise = command
      } catch (error) {
        return Promise.reject(toRedisError(error, redis))
      }
      return runWithDeadline(promise, what) as never
    },
    call(command, ...args) {
      coalesce()
      let promise: Promise<unknown>
      try {
        promise = redis.call(command, ...args)
      } catch (error) {
        return Promise.reject(toRedisError(error, redis))
      }
      return runWithDeadline(promise, command) as never
    },
  }

  const runWithDeadline = (promise: Promise<unknown>, what: string) =>
    new Promise((resolve, reject) => {
      const call: TimedCall = {
        deadline: 0,
        expire: () => reject(timeoutError(what)),
        previous: undefined,
        next: undefined,
        queued: false,
      }
      queue.add(call)
      promise.then(
        (value) => {
          if (queue.settle(call)) resolve(value)
        },
        (error: unknown) => {
          if (queue.settle(call)) reject(toRedisError(error, redis))
        },
      )
    })

  return caller
}
