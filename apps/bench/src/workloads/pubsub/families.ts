import { guard } from '../../harness/runner.js'
import type { BenchContext, ContenderFactory } from '../../harness/types.js'

export interface BenchMessage {
  id: number
  sentAt: number
}

/** A publisher and a subscriber on separate connections, as an app runs them. */
export interface PubSubEndpoint {
  publish(channel: string, message: BenchMessage): Promise<unknown>
  /** Resolves once the server acknowledged the subscription. */
  subscribe(channel: string, handler: (message: BenchMessage) => void): Promise<void>
  close(): Promise<void> | void
}

export interface PubSubFamily {
  implementation: string
  open(context: BenchContext): Promise<PubSubEndpoint>
}

/**
 * One operation = publish a message and wait until the subscriber's handler got it: throughput of
 * publish → handler with `concurrency` messages in flight, latency end to end.
 */
export function publishToHandler(family: PubSubFamily): ContenderFactory {
  return guard(family.implementation, async (context) => {
    const endpoint = await family.open(context)
    const channel = `${context.prefix('pubsub')}:channel`
    const pending = new Map<number, () => void>()
    await endpoint.subscribe(channel, (message) => {
      const resolve = pending.get(message.id)
      pending.delete(message.id)
      resolve?.()
    })
    let sequence = 0
    return {
      implementation: family.implementation,
      operation: async () => {
        const id = sequence++
        const received = new Promise<void>((resolve) => pending.set(id, resolve))
        await endpoint.publish(channel, { id, sentAt: Date.now() })
        await received
      },
      close: () => endpoint.close(),
    }
  })
}
