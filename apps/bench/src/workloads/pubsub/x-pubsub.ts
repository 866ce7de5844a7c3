import { createPubSub } from '@x/pubsub'
import { IMPLEMENTATION } from '../../scenario-names.js'
import type { BenchMessage, PubSubFamily } from './families.js'

/** @x/pubsub with its defaults: JSON codec, its own duplicate() subscriber connection. */
export const xPubSub: PubSubFamily = {
  implementation: IMPLEMENTATION.xPubSub,
  async open({ redis }) {
    const pubsub = createPubSub({ redis })
    return {
      publish: (channel, message) => pubsub.publish(channel, message),
      async subscribe(channel, handler) {
        await pubsub.subscribe<BenchMessage>(channel, handler)
      },
      close: () => pubsub.close(),
    }
  },
}
