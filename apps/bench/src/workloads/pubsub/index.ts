import type { Scenario } from '../../harness/types.js'
import { SCENARIO } from '../../scenario-names.js'
import { type PubSubFamily, publishToHandler } from './families.js'
import { rawIoredis } from './raw-ioredis.js'
import { xPubSub } from './x-pubsub.js'

const families: PubSubFamily[] = [xPubSub, rawIoredis]

export const pubSubScenarios: Scenario[] = [
  {
    kind: 'throughput',
    workload: 'pubsub',
    scenario: SCENARIO.pubsub,
    contenders: families.map(publishToHandler),
  },
]
