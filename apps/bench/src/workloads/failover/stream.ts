import { createStream } from '@x/pubsub'
import type { FailoverCase } from './case.js'

/** @x/pubsub stream publish (XADD, acknowledged by the master) with its defaults; nobody consumes. */
export const streamCase: FailoverCase = {
  implementation: '@x/pubsub stream',
  operation: 'publish (one stream)',
  async open({ redis, shard }) {
    const [name] = shard.pick(
      1,
      (index) => `jobs${index}`,
      (candidate) => `stream:{${candidate}}`,
    )
    const stream = createStream<number>({ redis, name: name! })
    return {
      async call(_worker, iteration) {
        await stream.publish(iteration)
        return undefined
      },
      close: () => stream.close(),
    }
  },
}
