import type { Emitter } from '@x/redis-core'
import { assertPositive } from '@x/redis-core'
import { LockLostError, LockNotHeldError } from './errors.js'
import type { Lease, LockEvents } from './types.js'

export interface LeaseOperations {
  /** True when extended; false when the lock is no longer ours. Throws on Redis errors. */
  extend(token: string, ttl: number): Promise<boolean>
  /** True when released; false when the lock was no longer ours. Throws on Redis errors. */
  release(token: string): Promise<boolean>
  /** The drift allowance for a ttl, in ms. */
  drift(ttl: number): number
}

export interface LeaseInit {
  resource: string
  token: string
  fence: number
  ttl: number
  expiresAt: number
  operations: LeaseOperations
  emitter: Emitter<LockEvents>
}

type State = 'held' | 'released' | 'lost'

/**
 * The lease object. Its signal and expiry timer are created on first access of `signal`, so the
 * uncontended acquire/release path allocates no timer.
 */
export function createLease(init: LeaseInit): Lease {
  const { resource, token, fence, operations, emitter } = init
  let expiresAt = init.expiresAt
  let state: State = 'held'
  let lostReason: LockLostError | undefined
  let controller: AbortController | undefined
  let timer: NodeJS.Timeout | undefined

  const markLost = (error: LockLostError) => {
    if (state !== 'held') return
    state = 'lost'
    lostReason = error
    clearTimeout(timer)
    controller?.abort(error)
    emitter.emit('lost', { resource, error })
  }

  const schedule = () => {
    clearTimeout(timer)
    if (!controller || state !== 'held') return
    timer = setTimeout(onTimer, Math.max(0, expiresAt - Date.now()))
    timer.unref?.()
  }

  const onTimer = () => {
    if (state !== 'held') return
    if (Date.now() >= expiresAt) {
      markLost(new LockLostError(`lease on "${resource}" expired before it was extended or released`))
    } else schedule()
  }

  const lease: Lease = {
    resource,
    token,
    fence,
    get expiresAt() {
      return expiresAt
    },
    get held() {
      return state === 'held' && Date.now() < expiresAt
    },
    get signal() {
      if (!controller) {
        controller = new AbortController()
        if (state === 'lost') controller.abort(lostReason)
        else if (state === 'held' && Date.now() >= expiresAt) onTimer()
        else schedule()
      }
      return controller.signal
    },
    async extend(ttl = init.ttl) {
      assertPositive('ttl', ttl, { integer: true })
      if (state === 'released') throw new LockNotHeldError(`lease on "${resource}" was already released`)
      if (state === 'lost') throw lostReason!
      const started = performance.now()
      const extended = await operations.extend(token, ttl)
      if (!extended) {
        markLost(new LockLostError(`lock on "${resource}" is no longer held by this lease; not extended`))
      }
      // The expiry timer may have fired while the call was in flight: a lost lease stays lost.
      if (state !== 'held') throw lostReason ?? new LockNotHeldError(`lease on "${resource}" was released`)
      expiresAt = Date.now() + ttl - (performance.now() - started) - operations.drift(ttl)
      schedule()
      if (emitter.has('extended')) emitter.emit('extended', { resource, expiresAt })
    },
    async release() {
      if (state === 'released') return
      const wasLost = state === 'lost'
      state = 'released'
      clearTimeout(timer)
      const released = await operations.release(token)
      if (!released) {
        const error = new LockNotHeldError(
          `lock on "${resource}" was no longer held by this lease (expired or taken over); nothing was deleted`,
        )
        if (!wasLost) {
          const lost = new LockLostError(error.message, { cause: error })
          lostReason = lost
          controller?.abort(lost)
          emitter.emit('lost', { resource, error: lost })
        }
        throw error
      }
      if (emitter.has('released')) emitter.emit('released', { resource })
    },
    async [Symbol.asyncDispose]() {
      try {
        await lease.release()
      } catch (error) {
        emitter.emit('error', { operation: 'release', resource, error })
      }
    },
  }
  return lease
}
