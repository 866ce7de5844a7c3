import { createRedis } from '@x/redis-core'
import { eventually, targets, useRedis } from '@x/testkit/vitest'
import { afterAll, describe, expect, it } from 'vitest'
import type { PubSub } from './create-pubsub.js'
import { createListened } from './test-support.js'
import type { Unsubscribe } from './types.js'

describe.each(targets())('delivery while subscriptions change on $name', (target) => {
  const redis = useRedis(target, createRedis)
  const instances: PubSub[] = []
  let counter = 0
  const channel = () => `${target.prefix}:delivery:${++counter}`

  afterAll(async () => {
    await Promise.all(instances.map((pubsub) => pubsub.close()))
  })

  const make = () => {
    const pubsub = createListened({ redis }, { error: () => {} })
    instances.push(pubsub)
    return pubsub
  }

  it('a handler that unsubscribes itself does not make a subscription with another decoder miss the message', async () => {
    const pubsub = make()
    const name = channel()
    const seen: string[] = []
    // The raw subscription's group comes first, the typed channel's second: removing the first
    // group during delivery must not skip the second.
    let stopFirst: Unsubscribe | undefined
    stopFirst = await pubsub.subscribe(name, () => {
      seen.push('raw')
      void stopFirst?.()
    })
    await pubsub.channel<string>(name).subscribe(() => void seen.push('typed'))
    await pubsub.publish(name, 'one')
    await eventually(() => seen.length === 2)
    expect(seen.sort()).toEqual(['raw', 'typed'])
  })

  it('a handler that unsubscribes another handler of its group does not take the message from it', async () => {
    const pubsub = make()
    const name = channel()
    const seen: string[] = []
    let stopSecond: Unsubscribe | undefined
    await pubsub.subscribe(name, () => {
      seen.push('first')
      void stopSecond?.()
    })
    stopSecond = await pubsub.subscribe(name, () => void seen.push('second'))
    await pubsub.publish(name, 'one')
    await eventually(() => seen.length === 2)
    expect(seen).toEqual(['first', 'second'])
    // Removed now: the next message reaches only the first handler.
    await pubsub.publish(name, 'two')
    await eventually(() => seen.length === 3)
    expect(seen).toEqual(['first', 'second', 'first'])
  })

  it('a subscription added during delivery does not receive the message being delivered', async () => {
    const pubsub = make()
    const name = channel()
    const seen: string[] = []
    const late = () => void seen.push('late')
    let adding: Promise<Unsubscribe> | undefined
    await pubsub.subscribe(name, (message) => {
      seen.push(`first:${String(message)}`)
      adding ??= pubsub.channel<string>(name).subscribe(late)
    })
    await pubsub.publish(name, 'one')
    await eventually(() => adding !== undefined)
    await adding
    await pubsub.publish(name, 'two')
    await eventually(() => seen.length === 3)
    expect(seen).toEqual(['first:one', 'first:two', 'late'])
  })
})
