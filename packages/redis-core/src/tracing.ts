import { type TracingChannel, tracingChannel } from 'node:diagnostics_channel'

/** The tracing channel name of a public operation: `x:<package>:<operation>`, e.g. `x:cache:getOrSet`. */
export function tracingChannelName(packageName: string, operation: string): string {
  return `x:${packageName}:${operation}`
}

/** The tracer of one operation; hoist it out of hot paths (`const traceGet = tracing.operation('get')`). */
export interface OperationTracer {
  /** The channel name, `x:<package>:<operation>`. */
  readonly name: string
  /** True when someone subscribes to the channel, so callers can skip building a context. */
  readonly active: boolean
  /**
   * Runs `fn`, published as start/end/asyncStart/asyncEnd/error on the channel when someone
   * subscribes; otherwise just `fn()`. Fields that `fn` sets on `context` (an `outcome`,
   * `roundTrips`) are seen by the asyncEnd subscribers.
   */
  trace<T, C extends object>(context: C, fn: () => Promise<T>): Promise<T>
  /** `trace` for a synchronous operation: start/end/error. */
  traceSync<T, C extends object>(context: C, fn: () => T): T
}

export interface Tracing {
  /** The tracer of `operation`, created once and cached. */
  operation(operation: string): OperationTracer
  /** `operation(operation).trace(context, fn)`. */
  trace<T, C extends object>(operation: string, context: C, fn: () => Promise<T>): Promise<T>
  /** `operation(operation).traceSync(context, fn)`. */
  traceSync<T, C extends object>(operation: string, context: C, fn: () => T): T
}

/**
 * Node.js `diagnostics_channel` tracing for one package (`createTracing('cache')`). The context
 * carries names and outcomes, never values or secrets. With no subscriber the cost of a call is
 * one boolean check, so it stays on every public operation.
 */
export function createTracing(packageName: string): Tracing {
  const tracers = new Map<string, OperationTracer>()

  const operation = (name: string): OperationTracer => {
    let tracer = tracers.get(name)
    if (!tracer) {
      tracer = createOperationTracer(tracingChannelName(packageName, name))
      tracers.set(name, tracer)
    }
    return tracer
  }

  return {
    operation,
    trace: (name, context, fn) => operation(name).trace(context, fn),
    traceSync: (name, context, fn) => operation(name).traceSync(context, fn),
  }
}

function createOperationTracer(name: string): OperationTracer {
  const channel = tracingChannel<object>(name) as TracingChannel<object>
  // TracingChannel.hasSubscribers arrived in Node 20.13; before that, ask its channels.
  const active =
    typeof (channel as { hasSubscribers?: unknown }).hasSubscribers === 'boolean'
      ? () => channel.hasSubscribers
      : () =>
          channel.start.hasSubscribers ||
          channel.end.hasSubscribers ||
          channel.asyncStart.hasSubscribers ||
          channel.asyncEnd.hasSubscribers ||
          channel.error.hasSubscribers
  return {
    name,
    get active() {
      return active()
    },
    // Node puts what the traced function returns into `context.result`, where every subscriber sees
    // it: a cached value, a session token. The result goes to the caller only; subscribers get the
    // context's own fields (and `error` on failure). The untraced path stays a plain call.
    trace(context, fn) {
      if (!active()) return fn()
      return withoutResult(channel, context, fn)
    },
    traceSync(context, fn) {
      if (!active()) return fn()
      let value: ReturnType<typeof fn> | undefined
      channel.traceSync(() => {
        value = fn()
      }, context)
      return value as ReturnType<typeof fn>
    },
  }
}

async function withoutResult<T>(
  channel: TracingChannel<object>,
  context: object,
  fn: () => Promise<T>,
): Promise<T> {
  let value: T | undefined
  await channel.tracePromise(async () => {
    value = await fn()
  }, context)
  return value as T
}
