import { createSubscriber, type RedisClient, type Subscriber } from '@x/redis-core'

/** A lock handed over by a local holder: the transfer call's start, for the validity check. */
export interface Grant {
  fence: number
  /** performance.now() when the transfer call was sent. */
  started: number
}

/** One waiter's place in line for a key. */
export interface Ticket {
  readonly key: string
  /** Set when a release arrived for this ticket; the waiter retries at once instead of sleeping. */
  notified: boolean
  /** The token and ttl a local holder may hand the lock over with (see `claim`). */
  handoff: { token: string; ttl: number } | undefined
  /**
   * Sleeps until a release notification, a hand-off (resolves with its grant), `ms` passing, or
   * `signal` aborting (rejects with the signal's reason).
   */
  sleep(ms: number, signal?: AbortSignal): Promise<Grant | undefined>
  /** True when no waiter of this process that is still in line joined before this one. */
  readonly first: boolean
  /** Leaves the line; always call it (finally). */
  leave(): void
}

/** A sleeping waiter reserved for a hand-off. */
export interface Claim {
  readonly token: string
  readonly ttl: number
  /** Gives the grant to the waiter; false when it stopped waiting (aborted) meanwhile. */
  deliver(grant: Grant): boolean
  /** The hand-off did not happen; the waiter goes on waiting. */
  cancel(): void
}

export interface ReleaseNotifier {
  /** True once a subscription was confirmed. */
  readonly active: boolean
  /**
   * Subscribes (once per instance) and resolves when at least one server confirmed the
   * subscription, or false after `timeoutMs`: waiters then rely on polling alone. Rejects with
   * `signal.reason` as soon as `signal` aborts.
   */
  ready(timeoutMs: number, signal?: AbortSignal): Promise<boolean>
  /** Joins the line of waiters for `key`. */
  join(key: string): Ticket
  /** Reserves the head of the line for `key` if it sleeps and accepts a hand-off. */
  claim(key: string): Claim | undefined
  /** Wakes the first waiter for `key` as a release message would (for releases Redis did not publish). */
  wake(key: string): void
  /** Number of waiters in line. */
  waiting(key?: string): number
  /** Closes the subscriber connections. */
  close(): Promise<void>
}

interface MutableTicket extends Ticket {
  wake: ((grant?: Grant) => void) | undefined
  claimed: boolean
  timerFired: boolean
  /** A notification that came while claimed; delivered if the hand-off does not happen. */
  withheld: boolean
}

/**
 * One shared subscriber per server (core's `createSubscriber`: a duplicated connection that
 * resubscribes after a reconnect and follows a Cluster's subscriber switch) and a map of
 * key → line of waiters. A release publishes the key; it wakes the first waiter in line that was
 * not already woken, so a release wakes one local waiter (FIFO) instead of a thundering herd (a
 * message `*key` wakes them all: the release of a read-write lock's writer). A
 * waiter that was mid-attempt when its notification came retries at once, so a release between a
 * failed attempt and the sleep is never missed.
 */
export function createReleaseNotifier(
  servers: readonly RedisClient[],
  channel: string,
  redisTimeoutMs: number,
  report: (error: unknown) => void,
): ReleaseNotifier {
  const lines = new Map<string, MutableTicket[]>()
  const subscribers: Subscriber[] = []
  let subscribed: Promise<boolean> | undefined
  let closed = false
  let active = false

  const notify = (key: string) => {
    const line = lines.get(key)
    if (!line) return
    const ticket = line.find((candidate) => !candidate.notified)
    if (!ticket) return
    // Reserved for a hand-off in flight: the notification waits for its outcome (see cancel), so
    // that it never wakes a waiter behind it first.
    if (ticket.claimed) {
      ticket.withheld = true
      return
    }
    ticket.notified = true
    ticket.wake?.()
  }

  /** Wakes every waiter for `key`: after a writer leaves, all waiting readers may enter. */
  const notifyAll = (key: string) => {
    for (const ticket of lines.get(key) ?? []) {
      if (ticket.claimed) continue
      ticket.notified = true
      ticket.wake?.()
    }
  }

  const onMessage = (from: string, message: string) => {
    if (from !== channel) return
    if (message.startsWith('*')) notifyAll(message.slice(1))
    else notify(message)
  }

  const subscribe = (): Promise<boolean> => {
    const attempts = servers.map(async (server) => {
      const subscriber = createSubscriber(server, { redisTimeoutMs })
      subscribers.push(subscriber)
      subscriber.on('error', ({ error }) => report(error))
      // Releases published while the connection was away were missed: every waiter retries now.
      subscriber.on('reconnected', () => {
        for (const key of lines.keys()) notifyAll(key)
      })
      await subscriber.subscribe(channel, (message, from) => onMessage(from, message))
      active = true
      return true
    })
    return new Promise<boolean>((resolve) => {
      let pending = attempts.length
      for (const attempt of attempts) {
        attempt.then(
          () => resolve(true),
          (error: unknown) => {
            report(error)
            pending -= 1
            if (pending === 0) resolve(false)
          },
        )
      }
    })
  }

  return {
    get active() {
      return active && !closed
    },
    ready(timeoutMs, signal) {
      if (closed) return Promise.resolve(false)
      if (signal?.aborted) return Promise.reject(signal.reason)
      subscribed ??= subscribe()
      return new Promise((resolve, reject) => {
        const finish = () => {
          clearTimeout(timer)
          signal?.removeEventListener('abort', onAbort)
        }
        const onAbort = () => {
          finish()
          reject(signal!.reason)
        }
        const timer = setTimeout(() => {
          finish()
          resolve(false)
        }, timeoutMs)
        timer.unref?.()
        signal?.addEventListener('abort', onAbort, { once: true })
        void subscribed!.then((ok) => {
          finish()
          resolve(ok)
        })
      })
    },
    join(key) {
      let line = lines.get(key)
      if (!line) {
        line = []
        lines.set(key, line)
      }
      const ticket: MutableTicket = {
        key,
        notified: false,
        handoff: undefined,
        wake: undefined,
        claimed: false,
        timerFired: false,
        withheld: false,
        get first() {
          return lines.get(key)?.[0] === ticket
        },
        sleep(ms, signal) {
          return new Promise<Grant | undefined>((resolve, reject) => {
            if (signal?.aborted) return reject(signal.reason)
            const finish = () => {
              clearTimeout(timer)
              signal?.removeEventListener('abort', onAbort)
              ticket.wake = undefined
            }
            const onAbort = () => {
              finish()
              reject(signal!.reason)
            }
            ticket.timerFired = false
            const timer = setTimeout(() => {
              // A claimed waiter is about to receive the lock: the hand-off is one round trip away.
              if (ticket.claimed) {
                ticket.timerFired = true
                return
              }
              finish()
              resolve(undefined)
            }, ms)
            timer.unref?.()
            ticket.wake = (grant) => {
              finish()
              resolve(grant)
            }
            signal?.addEventListener('abort', onAbort, { once: true })
            if (ticket.notified) ticket.wake()
          })
        },
        leave() {
          const current = lines.get(key)
          if (!current) return
          const index = current.indexOf(ticket)
          if (index !== -1) current.splice(index, 1)
          if (current.length === 0) lines.delete(key)
          // A notification this waiter consumed (or had withheld) but did not use (it gave up)
          // goes to the next one.
          const unused = ticket.notified || ticket.withheld
          ticket.withheld = false
          if (unused && index !== -1) notify(key)
        },
      }
      line.push(ticket)
      return ticket
    },
    claim(key) {
      const line = lines.get(key)
      if (!line) return undefined
      // Strictly the head of the line: skipping a waiter that is busy polling would let a later
      // one overtake it. When the head is awake, the plain release notifies it instead.
      const ticket = line.find((candidate) => !candidate.claimed)
      if (!ticket?.handoff || !ticket.wake || ticket.notified) return undefined
      ticket.claimed = true
      const { token, ttl } = ticket.handoff
      return {
        token,
        ttl,
        deliver(grant) {
          ticket.claimed = false
          ticket.withheld = false
          if (!ticket.wake) return false
          ticket.wake(grant)
          return true
        },
        cancel() {
          ticket.claimed = false
          if (ticket.withheld) {
            ticket.withheld = false
            ticket.notified = true
            ticket.wake?.()
          } else if (ticket.timerFired) ticket.wake?.()
        },
      }
    },
    wake: notify,
    waiting(key) {
      if (key !== undefined) return lines.get(key)?.length ?? 0
      let total = 0
      for (const line of lines.values()) total += line.length
      return total
    },
    async close() {
      closed = true
      await Promise.all(subscribers.splice(0).map((subscriber) => subscriber.close()))
    },
  }
}
