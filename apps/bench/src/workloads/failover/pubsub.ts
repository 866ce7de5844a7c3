import { createPubSub, shardedChannel } from '@x/pubsub'
import { IMPLEMENTATION } from '../../scenario-names.js'
import type { FailoverCase } from './case.js'

/** A message not handled this long after its publish was acknowledged counts as "not delivered". */
const LOST_AFTER_MS = 2000

/**
 * @x/pubsub sharded publish → handler on one channel of the shard, with its defaults: the call
 * ends when the subscriber's handler got the message. Pub/sub is at-most-once: a message published
 * while the subscription moves to the new master is "not delivered".
 */
export const pubSubCase: FailoverCase = {
  implementation: IMPLEMENTATION.xPubSub,
  operation: 'spublish → handler (sharded channel)',
  async open({ redis, shard }) {
    const pubsub = createPubSub({ redis })
    const [tag] = shard.pick(
      1,
      (index) => `room${index}`,
      (name) => `{${name}}`,
    )
    const channel = shardedChannel(tag!, 'bench')
    const pending = new Map<number, () => void>()
    await pubsub.ssubscribe<number>(channel, (id) => {
      pending.get(id)?.()
      pending.delete(id)
    })
    let sequence = 0
    return {
      async call() {
        const id = sequence++
        let timer: NodeJS.Timeout | undefined
        const handled = new Promise<boolean>((resolve) => {
          pending.set(id, () => resolve(true))
          timer = setTimeout(() => resolve(false), LOST_AFTER_MS)
        })
        try {
          const receivers = await pubsub.spublish(channel, id)
          if (receivers === 0) return 'not delivered (no subscriber)'
          return (await handled) ? undefined : 'not delivered'
        } finally {
          clearTimeout(timer)
          pending.delete(id)
        }
      },
      close: () => pubsub.close(),
    }
  },
}
