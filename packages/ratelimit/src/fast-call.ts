import {
  type DeadlineQueue,
  isCluster,
  type RedisClient,
  type Script,
  type TimedCall,
  TimeoutError,
  toRedisError,
} from '@x/redis-core'

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
        ;(script.run(redis, args.slice(0, keyCount) as string[], args.slice(keyCount)) as Promise<T>).then(
          (reply) => {
            clearTimeout(timer)
            resolve(reply)
          },
          fail,
        )
      },
    )
  })
}

/**
 * The check hot path in one promise: EVALSHA (NOSCRIPT → EVAL), the timeout from a shared
 * `DeadlineQueue` instead of a timer per call, and the caller's reply/error handlers applied inside,
 * so no further `.then` layer is needed. `onError` gets typed errors (`TimeoutError`,
 * `RedisUnavailableError`, …); what either handler returns or throws settles the promise.
 */
export function evalThen<T, R>(
  redis: RedisClient,
  script: Script<T>,
  keyCount: number,
  args: Array<string | number>,
  queue: DeadlineQueue,
  what: string,
  onReply: (reply: T) => R | PromiseLike<R>,
  onError: (error: unknown) => R | PromiseLike<R>,
): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    const settle = (handler: (value: never) => R | PromiseLike<R>, value: unknown) => {
      try {
        resolve(handler(value as never))
      } catch (error) {
        reject(error)
      }
    }
    const call: TimedCall = {
      deadline: 0,
      expire: () => settle(onError, new TimeoutError(`${what} did not finish within ${queue.timeoutMs} ms`)),
      previous: undefined,
      next: undefined,
      queued: false,
    }
    const ok = (reply: T) => {
      if (queue.settle(call)) settle(onReply, reply)
    }
    const fail = (error: unknown) => {
      if (queue.settle(call)) settle(onError, toRedisError(error))
    }
    queue.add(call)
    let sent: Promise<T>
    try {
      sent = redis.evalsha(script.sha, keyCount, ...args) as Promise<T>
    } catch (error) {
      // A client may throw synchronously (e.g. a closed Cluster); answer the same way as a rejection.
      fail(error)
      return
    }
    sent.then(ok, (error: unknown) => {
      if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) return fail(error)
      ;(script.run(redis, args.slice(0, keyCount) as string[], args.slice(keyCount)) as Promise<T>).then(
        ok,
        fail,
      )
    })
  })
}

interface Corkable {
  cork(): void
  uncork(): void
}

/**
 * Returns a function to call before sending a check: the first call in a tick corks the
 * connection's socket and a `process.nextTick` uncorks it, so the checks started in one tick
 * (e.g. every caller resumed by one batch of replies) leave in one write instead of one system call
 * each. Every `batch` checks the socket is flushed and corked again, so Redis starts on the first
 * ones while the rest are being prepared (one write per tick made client and server take turns
 * instead of working in parallel). Only for a standalone `Redis` that is ready (a Cluster routes
 * over many sockets); writes are never held past the current tick.
 * (A candidate for @x/redis-core next to its script runner.)
 */
export function writeCoalescer(redis: RedisClient, batch = 16): () => void {
  if (isCluster(redis)) return () => {}
  let corked: Corkable | undefined
  const release = () => {
    const stream = corked
    corked = undefined
    stream?.uncork()
  }
  let held = 0
  return () => {
    if (corked !== undefined) {
      // Flush every few checks so that Redis starts on them while the rest are being prepared.
      if (++held >= batch) {
        held = 0
        corked.uncork()
        corked.cork()
      }
      return
    }
    if (redis.status !== 'ready') return
    const stream = (redis as unknown as { stream?: Partial<Corkable> }).stream
    if (typeof stream?.cork !== 'function' || typeof stream.uncork !== 'function') return
    corked = stream as Corkable
    held = 1
    corked.cork()
    process.nextTick(release)
  }
}
