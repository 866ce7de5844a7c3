import { callSafely, DecodeError, type OperationTracer } from '@x/redis-core'
import { HandlerError, SchemaError } from './errors.js'
import type { MessageDecoder } from './message-codec.js'
import { formatIssues, type StandardSchemaV1 } from './standard-schema.js'
import type { MessageHandler } from './types.js'

/** Handlers that share one decoder: the value is decoded (and validated) once for all of them. */
export interface HandlerGroup {
  readonly decoder: MessageDecoder
  readonly handlers: ReadonlyArray<MessageHandler<never>>
}

/** The context of `x:pubsub:deliver`, one per message and decoder group: names and counts, never the message. */
export interface DeliverTrace {
  channel: string
  pattern?: string
  /** Handlers in the group. */
  handlers: number
  /** `validating`: an async schema decides later (the outcome then shows in the `invalid` event or handlers). */
  outcome?: 'delivered' | 'invalid' | 'dropped' | 'validating'
}

export interface DeliveryHooks {
  delivered(): void
  invalid(channel: string, raw: string | Buffer, error: unknown, pattern: string | undefined): void
  handlerFailed(error: HandlerError, channel: string, pattern: string | undefined): void
}

/**
 * Turns one raw message into calls of every handler of a snapshot of groups: decode once per
 * group, validate with the group's schema (sync or async), then call each handler; a throw or
 * rejection of one handler never stops the others.
 */
export function createDelivery(tracer: OperationTracer, hooks: DeliveryHooks) {
  const failed = (error: unknown, channel: string, pattern: string | undefined) =>
    hooks.handlerFailed(
      new HandlerError(`a handler of channel "${channel}" failed`, {
        cause: error,
        channel,
        ...(pattern === undefined ? {} : { pattern }),
      }),
      channel,
      pattern,
    )

  const run = (
    handlers: ReadonlyArray<MessageHandler<never>>,
    value: unknown,
    channel: string,
    pattern: string | undefined,
  ) => {
    hooks.delivered()
    const onThrow = (error: unknown) => failed(error, channel, pattern)
    for (const handler of handlers) {
      callSafely(() => (handler as MessageHandler<unknown>)(value, channel, pattern), onThrow)
    }
  }

  const validated = (
    result: StandardSchemaV1.Result<unknown>,
    handlers: ReadonlyArray<MessageHandler<never>>,
    channel: string,
    raw: string | Buffer,
    pattern: string | undefined,
  ) => {
    if (!result.issues) return run(handlers, result.value, channel, pattern)
    const error = new SchemaError(`message does not match the schema: ${formatIssues(result.issues)}`, {
      issues: result.issues,
    })
    hooks.invalid(channel, raw, error, pattern)
  }

  const deliverGroup = (
    { decoder, handlers }: HandlerGroup,
    raw: string | Buffer,
    channel: string,
    pattern: string | undefined,
  ): DeliverTrace['outcome'] => {
    let value: unknown
    try {
      value = decoder.codec.decode(raw)
    } catch (error) {
      hooks.invalid(channel, raw, DecodeError.isInstance(error) ? error : wrapDecode(error), pattern)
      return 'invalid'
    }
    const schema = decoder.schema
    if (schema === undefined) {
      run(handlers, value, channel, pattern)
      return 'delivered'
    }
    try {
      const result = schema['~standard'].validate(value)
      if (result instanceof Promise) {
        result.then(
          (settled) => validated(settled, handlers, channel, raw, pattern),
          (error: unknown) => hooks.invalid(channel, raw, error, pattern),
        )
        return 'validating'
      }
      validated(result, handlers, channel, raw, pattern)
      return result.issues ? 'invalid' : 'delivered'
    } catch (error) {
      hooks.invalid(channel, raw, error, pattern)
      return 'invalid'
    }
  }

  const deliver = (
    groups: readonly HandlerGroup[],
    raw: string | Buffer,
    channel: string,
    pattern: string | undefined,
  ): void => {
    if (!tracer.active) {
      for (const group of groups) deliverGroup(group, raw, channel, pattern)
      return
    }
    for (const group of groups) {
      const context: DeliverTrace = { channel, handlers: group.handlers.length }
      if (pattern !== undefined) context.pattern = pattern
      tracer.traceSync(context, () => {
        context.outcome = deliverGroup(group, raw, channel, pattern)
      })
    }
  }

  return Object.assign(deliver, {
    /** An iterator's full buffer dropped a message of `channel` (traced as outcome `dropped`). */
    dropped(channel: string): void {
      if (tracer.active) tracer.traceSync({ channel, handlers: 1, outcome: 'dropped' }, () => {})
    },
  })
}

function wrapDecode(error: unknown): DecodeError {
  return new DecodeError(
    `message could not be decoded: ${error instanceof Error ? error.message : String(error)}`,
    { cause: error },
  )
}
