import { createTracing, type OperationTracer } from '@x/redis-core'

/**
 * What a traced operation worked on: a mutex, Redlock, a semaphore, a side of a read-write lock,
 * or a read-write lock as a whole (its inspect).
 */
export type LockKind = 'lock' | 'redlock' | 'semaphore' | 'read' | 'write' | 'read-write'

/**
 * How an operation ended, on its tracing channel:
 * - `acquired`: a lease was handed out (acquire, tryAcquire, withLock before the routine runs);
 * - `busy`: tryAcquire found the lock held;
 * - `timeout`: the wait ended with `LockTimeoutError`;
 * - `aborted`: the caller's `AbortSignal` ended the wait;
 * - `released`: the lease was released (release, and withLock after its routine);
 * - `extended`: the lease was extended;
 * - `lost`: the lease was no longer ours (release, extend, or withLock whose lease was lost);
 * - `fenced`: raiseFence set the fencing counter (to the floor or above);
 * - `locked` / `unlocked`: what inspect found.
 */
export type LockOutcome =
  | 'acquired'
  | 'busy'
  | 'timeout'
  | 'aborted'
  | 'released'
  | 'extended'
  | 'lost'
  | 'fenced'
  | 'locked'
  | 'unlocked'

/**
 * The context published on `x:lock:<operation>`: names and facts, never a token. Subscribers read
 * `outcome`, `waitedMs`, `fence` and `roundTrips` at `asyncEnd` (or `error`).
 */
export interface LockTraceContext {
  kind: LockKind
  /** The resource, semaphore or read-write lock name. */
  resource: string
  outcome?: LockOutcome
  /** acquire/withLock: how long the caller waited for the lock, in ms. */
  waitedMs?: number
  /** release/withLock: how long the lease was held, from its grant to the release, in ms. */
  heldMs?: number
  /** The fencing token of the lease (or the counter after raiseFence). */
  fence?: number
  /** Script calls this operation made (one per attempt; on Redlock one per attempt on every server). */
  roundTrips: number
}

/** The `x:lock:*` channels; one tracer per operation, shared by every instance. */
export const tracing = createTracing('lock')

/**
 * Runs `fn` on `tracer`'s channel without handing its result to subscribers: Node's
 * `tracePromise` stores the resolved value on the context as `result`, and a lease carries its
 * owner token (a withLock routine's result may be any of the caller's values).
 */
export async function traced<T>(
  tracer: OperationTracer,
  context: LockTraceContext,
  fn: () => Promise<T>,
): Promise<T> {
  let result!: T
  await tracer.trace(context, async () => {
    result = await fn()
  })
  return result
}

const traceInspect = tracing.operation('inspect')

/** `inspect` of a semaphore or a read-write lock on `x:lock:inspect`: one script call. */
export function tracedInspect<T>(
  kind: LockKind,
  resource: string,
  run: () => Promise<T>,
  describe: (state: T) => { locked: boolean; fence: number },
): Promise<T> {
  if (!traceInspect.active) return run()
  const context: LockTraceContext = { kind, resource, roundTrips: 1 }
  return traced(traceInspect, context, async () => {
    const state = await run()
    const { locked, fence } = describe(state)
    context.outcome = locked ? 'locked' : 'unlocked'
    context.fence = fence
    return state
  })
}
