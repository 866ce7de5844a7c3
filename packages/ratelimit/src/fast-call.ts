import { type RedisClient, type Script, TimeoutError, toRedisError } from '@x/redis-core'

/**
 * One EVALSHA with a timeout, in one promise: the hot path of every check. It does what
 * `script.run` inside `redisCall` does (NOSCRIPT → EVAL, typed errors, timeout) without their extra
 * async layers. `args` are the keys followed by ARGV.
 * (A candidate for @x/redis-core: `script.runFast(client, args, timeoutMs)`.)
 */
export function evalWithTimeout<T>(
  redis: RedisClient,
  script: Script<T>,
  keyCount: number,
  args: Array<string | number>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new TimeoutError(`${what} did not finish within ${timeoutMs} ms`))
    }, timeoutMs)
    timer.unref?.()
    const fail = (error: unknown) => {
      clearTimeout(timer)
      reject(toRedisError(error))
    }
    let sent: Promise<T>
    try {
      sent = redis.evalsha(script.sha, keyCount, ...args) as Promise<T>
    } catch (error) {
      // A client may throw synchronously (e.g. a closed Cluster); answer the same way as a rejection.
      fail(error)
      return
    }
    sent.then(
      (reply) => {
        clearTimeout(timer)
        resolve(reply)
      },
      (error: unknown) => {
        if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) return fail(error)
        script.run(redis, args.slice(0, keyCount) as string[], args.slice(keyCount)).then((reply) => {
          clearTimeout(timer)
          resolve(reply)
        }, fail)
      },
    )
  })
}
