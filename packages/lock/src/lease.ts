import type { Emitter } from '@x/redis-core'
import { LockLostError, LockNotHeldError } from './errors.js'
import type { LockCounters } from './stats.js'
import { type LockKind, type LockTraceContext, traced, tracing } from './tracing.js'
import { assertTtl } from './ttl.js'

const traceExtend = tracing.operation('extend')
const traceRelease = tracing.operation('release')

import type { Lease, LockEvents } from './types.js'

/** Shared by every lease of one manager (no per-lease closures on the hot path). */
export interface LeaseOperations<K> {
  /** True when extended; false when the lock is no longer ours. Throws on Redis errors. */
  extend(keys: K, token: string, ttl: number): Promise<boolean>
  /** True when released (or handed to a waiter); false when it was no longer ours. Throws on Redis errors. */
  release(keys: K, token: string): Promise<boolean>
  /** The drift allowance for a ttl, in ms. */
  drift(ttl: number): number
  emitter: Emitter<LockEvents>
  counters: LockCounters
  /** Published in the tracing context. */
  kind: LockKind
  /** Script calls per extend or release (Redlock: one per server). */
  calls: number
}

type State = 'held' | 'released' | 'lost'

/**
 * The lease object. Its AbortController and expiry timer are created on first access of `signal`,
 * so the uncontended acquire/release path allocates no timer. Validity is kept on the monotonic
 * clock (`performance.now()`): the wall clock can step (NTP, a resumed VM) and must not keep a lost
 * lease alive or end a valid one.
 */
export class LeaseImpl<K> implements Lease {
  /** performance.now() at which the lease stops being valid. */
  #validUntil: number
  #state: State = 'held'
  #lostReason: LockLostError | undefined
  #controller: AbortController | undefined
  #timer: NodeJS.Timeout | undefined
  /** performance.now() when the lease was handed out, for the traced hold time. */
  readonly #grantedAt = performance.now()

  constructor(
    readonly resource: string,
    readonly token: string,
    readonly fence: number,
    private readonly ttl: number,
    validUntil: number,
    private readonly keys: K,
    private readonly operations: LeaseOperations<K>,
  ) {
    this.#validUntil = validUntil
  }

  /** Milliseconds of validity left (≤ 0 once it has run out), on the monotonic clock. */
  get remainingMs(): number {
    return this.#validUntil - performance.now()
  }

  get expiresAt(): number {
    // Derived on each read, so a step of the wall clock moves the estimate, not the validity.
    return Date.now() + this.remainingMs
  }

  get held(): boolean {
    return this.#state === 'held' && this.remainingMs > 0
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController()
      if (this.#state === 'lost') this.#controller.abort(this.#lostReason)
      else this.#onTimer()
    }
    return this.#controller.signal
  }

  extend(ttlMs: number = this.ttl): Promise<void> {
    if (!traceExtend.active) return this.#extend(ttlMs, undefined)
    const trace = this.#trace()
    return traced(traceExtend, trace, () => this.#extend(ttlMs, trace))
  }

  release(): Promise<void> {
    if (!traceRelease.active) return this.#release(undefined)
    const trace = this.#trace()
    return traced(traceRelease, trace, () => this.#release(trace))
  }

  /** How long the lease has been held, in ms (monotonic). */
  get heldMs(): number {
    return performance.now() - this.#grantedAt
  }

  #trace(): LockTraceContext {
    const { kind } = this.operations
    return { kind, resource: this.resource, fence: this.fence, roundTrips: 0 }
  }

  async #extend(ttlMs: number, trace: LockTraceContext | undefined): Promise<void> {
    const ttl = assertTtl('ttlMs', ttlMs)
    if (this.#state === 'released') {
      throw new LockNotHeldError(`lease on "${this.resource}" was already released`, {
        resource: this.resource,
      })
    }
    if (this.#state === 'lost') throw this.#lostReason!
    const started = performance.now()
    if (trace) trace.roundTrips += this.operations.calls
    const extended = await this.operations.extend(this.keys, this.token, ttl)
    if (trace) trace.outcome = extended ? 'extended' : 'lost'
    if (!extended) {
      this.#markLost(
        new LockLostError(`lock on "${this.resource}" is no longer held by this lease; not extended`, {
          resource: this.resource,
        }),
      )
    }
    // The expiry timer may have fired while the call was in flight: a lost lease stays lost.
    const state = this.#state as State
    if (state === 'lost') throw this.#lostReason!
    if (state === 'released')
      throw new LockNotHeldError(`lease on "${this.resource}" was released`, { resource: this.resource })
    this.#validUntil = started + ttl - this.operations.drift(ttl)
    this.#schedule()
    const { emitter } = this.operations
    if (emitter.has('extended'))
      emitter.emit('extended', { resource: this.resource, expiresAt: this.expiresAt })
  }

  async #release(trace: LockTraceContext | undefined): Promise<void> {
    if (this.#state === 'released') return
    const wasLost = this.#state === 'lost'
    this.#state = 'released'
    clearTimeout(this.#timer)
    if (trace) trace.roundTrips += this.operations.calls
    const released = await this.operations.release(this.keys, this.token)
    if (trace) {
      trace.outcome = released ? 'released' : 'lost'
      trace.heldMs = performance.now() - this.#grantedAt
    }
    const { emitter } = this.operations
    if (!released) {
      const error = new LockNotHeldError(
        `lock on "${this.resource}" was no longer held by this lease (expired or taken over); nothing was deleted`,
        { resource: this.resource },
      )
      if (!wasLost) {
        const lost = new LockLostError(error.message, { resource: this.resource, cause: error })
        this.#lostReason = lost
        this.#controller?.abort(lost)
        this.operations.counters.losses += 1
        emitter.emit('lost', { resource: this.resource, error: lost })
      }
      throw error
    }
    this.operations.counters.releases += 1
    if (emitter.has('released')) emitter.emit('released', { resource: this.resource })
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      await this.release()
    } catch (error) {
      this.operations.emitter.emit('error', { operation: 'release', error, key: this.resource })
    }
  }

  #markLost(error: LockLostError): void {
    if (this.#state !== 'held') return
    this.#state = 'lost'
    this.#lostReason = error
    clearTimeout(this.#timer)
    this.#controller?.abort(error)
    this.operations.counters.losses += 1
    this.operations.emitter.emit('lost', { resource: this.resource, error })
  }

  #schedule(): void {
    clearTimeout(this.#timer)
    if (!this.#controller || this.#state !== 'held') return
    this.#timer = setTimeout(() => this.#onTimer(), Math.max(0, this.remainingMs))
    this.#timer.unref?.()
  }

  #onTimer(): void {
    if (this.#state !== 'held') return
    if (this.remainingMs <= 0) {
      this.#markLost(
        new LockLostError(`lease on "${this.resource}" expired before it was extended or released`, {
          resource: this.resource,
        }),
      )
    } else this.#schedule()
  }
}
