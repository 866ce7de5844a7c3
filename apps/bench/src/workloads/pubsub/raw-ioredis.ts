import { IMPLEMENTATION } from '../../scenario-names.js'
import type { BenchMessage, PubSubFamily } from './families.js'

/**
 * Plain ioredis as its README shows it: PUBLISH of JSON on the bench connection, a second
 * connection in subscriber mode with one 'message' listener that JSON.parses.
 */
export const rawIoredis: PubSubFamily = {
  implementation: IMPLEMENTATION.rawPubSub,
  async open(context) {
    const subscriber = context.newClient()
    const handlers = new Map<string, (message: BenchMessage) => void>()
    subscriber.on('message', (channel: string, text: string) => {
      handlers.get(channel)?.(JSON.parse(text) as BenchMessage)
    })
    return {
      publish: (channel, message) => context.redis.publish(channel, JSON.stringify(message)),
      async subscribe(channel, handler) {
        handlers.set(channel, handler)
        await subscriber.subscribe(channel)
      },
      close: () => subscriber.disconnect(),
    }
  },
}
