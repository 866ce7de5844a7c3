import { assertPositive, InvalidArgumentError } from '@x/redis-core'

/**
 * - `gcra`: generic cell rate algorithm, a token bucket stored as one timestamp (`token-bucket` is an alias).
 * - `sliding-window`: two fixed-window counters, the previous one weighted by how much of it still overlaps.
 * - `fixed-window`: one counter per aligned window.
 * - `sliding-log`: one sorted-set entry per admitted request; exact, memory grows with the limit.
 */
export type Algorithm = 'gcra' | 'token-bucket' | 'sliding-window' | 'fixed-window' | 'sliding-log'

export interface PolicyOptions {
  /**
   * Name of the policy: part of its Redis key and of the `RateLimit` header. Letters, digits, `_` and
   * `-`, at most 32 characters. Required when there is more than one policy.
   * @default 'default'
   */
  name?: string
  /** @default 'gcra' */
  algorithm?: Algorithm
  /** Requests (cost units) allowed per `windowMs`. For GCRA this is the rate: `limit / windowMs`. */
  limit: number
  /** Window length in milliseconds (an integer). */
  windowMs: number
  /**
   * GCRA only: how many cost units may be spent at once after a quiet period (the bucket size).
   * @default limit
   */
  burst?: number
}

/** A validated policy, as the limiter uses it. */
export interface Policy {
  readonly name: string
  readonly algorithm: 'gcra' | 'sliding-window' | 'fixed-window' | 'sliding-log'
  readonly limit: number
  readonly windowMs: number
  /** Largest cost one request may have: `burst` for GCRA, `limit` for the others. */
  readonly capacity: number
}

/** Numeric algorithm codes understood by the Lua script. */
export const ALGORITHM_CODE = {
  gcra: 1,
  'sliding-window': 2,
  'fixed-window': 3,
  'sliding-log': 4,
} as const

/** Largest sliding-window limit: both counts and a window tag are packed into one integer below 2^53. */
export const MAX_SLIDING_WINDOW_LIMIT = 2 ** 24 - 1

/**
 * Largest fixed-window limit: the count and a window tag share one integer (count × 1024 + tag)
 * that must stay below 2^53 to be exact; above it the tag is lost to rounding and every request
 * would look like the first of a new window.
 */
export const MAX_FIXED_WINDOW_LIMIT = 2 ** 43 - 1

const NAME = /^[A-Za-z0-9_-]{1,32}$/

/** Upper bound on a window: 10 years keeps every microsecond timestamp exact in a double. */
const MAX_WINDOW_MS = 10 * 365 * 86_400_000

export function normalizePolicy(options: PolicyOptions, fallbackName: string): Policy {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('a policy must be an object')
  }
  const name = options.name ?? fallbackName
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new InvalidArgumentError(
      `policy name must be 1-32 letters, digits, "_" or "-", got ${JSON.stringify(name)}`,
    )
  }
  const raw = options.algorithm ?? 'gcra'
  const algorithm = raw === 'token-bucket' ? 'gcra' : raw
  if (!(algorithm in ALGORITHM_CODE)) {
    throw new InvalidArgumentError(`unknown algorithm ${JSON.stringify(raw)} in policy "${name}"`)
  }
  const limit = assertPositive(`policy "${name}" limit`, options.limit, { integer: true })
  const windowMs = assertPositive(`policy "${name}" windowMs`, options.windowMs, { integer: true })
  if (algorithm === 'sliding-window' && limit > MAX_SLIDING_WINDOW_LIMIT) {
    // Both window counts are packed into one integer so the key stays small.
    throw new InvalidArgumentError(
      `policy "${name}": a sliding-window limit is at most ${MAX_SLIDING_WINDOW_LIMIT}`,
    )
  }
  if (algorithm === 'fixed-window' && limit > MAX_FIXED_WINDOW_LIMIT) {
    throw new InvalidArgumentError(
      `policy "${name}": a fixed-window limit is at most ${MAX_FIXED_WINDOW_LIMIT}, got ${limit}`,
    )
  }
  if (algorithm === 'gcra' && limit > windowMs * 1000) {
    // The emission interval (window / limit) must be at least one microsecond of server time.
    throw new InvalidArgumentError(`policy "${name}": a gcra rate is at most one unit per microsecond`)
  }
  if (windowMs > MAX_WINDOW_MS) {
    throw new InvalidArgumentError(`policy "${name}" windowMs must be at most ${MAX_WINDOW_MS}`)
  }
  let capacity = limit
  if (options.burst !== undefined) {
    if (algorithm !== 'gcra') {
      throw new InvalidArgumentError(`policy "${name}": burst applies to the gcra algorithm only`)
    }
    capacity = assertPositive(`policy "${name}" burst`, options.burst, { integer: true })
  }
  return { name, algorithm, limit, windowMs, capacity }
}

export function normalizePolicies(list: readonly PolicyOptions[]): Policy[] {
  if (!Array.isArray(list) || list.length === 0) {
    throw new InvalidArgumentError('policies must be a non-empty array')
  }
  if (list.length > 1 && list.some((policy) => policy?.name === undefined)) {
    throw new InvalidArgumentError('every policy needs a name when there are several')
  }
  const policies = list.map((policy) => normalizePolicy(policy, 'default'))
  const names = new Set(policies.map((policy) => policy.name))
  if (names.size !== policies.length) throw new InvalidArgumentError('policy names must be unique')
  return policies
}

/** Validates a per-request cost: a positive integer. */
export function assertCost(cost: unknown): number {
  return assertPositive('cost', cost, { integer: true })
}
