import { tracingChannel } from 'node:diagnostics_channel'
import { createRedis } from '@x/redis-core'
import { targets, useRedis } from '@x/testkit/vitest'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { SessionConflictError } from './errors.js'
import { createSessionStore } from './session-store.js'
import type { SessionTraceContext } from './trace-context.js'
import type { SessionStore } from './types.js'

type Event = { channel: string; phase: string; context: SessionTraceContext & { error?: unknown } }

const OPERATIONS = [
  'create',
  'get',
  'update',
  'rotate',
  'destroy',
  'destroyById',
  'listForUser',
  'destroyForUser',
]

describe.each(targets())('tracing channels on $name', (target) => {
  const redis = useRedis(target, createRedis)
  let store: SessionStore<{ role: string }>
  const events: Event[] = []
  const unsubscribers: Array<() => void> = []

  const subscribe = () => {
    for (const operation of OPERATIONS) {
      const channel = `x:session:${operation}`
      const handlers = {
        start: (context: unknown) =>
          events.push({ channel, phase: 'start', context: context as Event['context'] }),
        end: () => {},
        asyncStart: () => {},
        asyncEnd: (context: unknown) =>
          events.push({ channel, phase: 'asyncEnd', context: { ...(context as Event['context']) } }),
        error: (context: unknown) =>
          events.push({ channel, phase: 'error', context: { ...(context as Event['context']) } }),
      }
      tracingChannel(channel).subscribe(handlers)
      unsubscribers.push(() => tracingChannel(channel).unsubscribe(handlers))
    }
  }

  beforeAll(() => {
    store = createSessionStore({ redis, prefix: target.prefix })
  })
  afterEach(() => {
    for (const unsubscribe of unsubscribers.splice(0)) unsubscribe()
    events.length = 0
  })

  const finished = (channel: string) =>
    events
      .filter((event) => event.channel === channel && event.phase === 'asyncEnd')
      .map((event) => event.context)

  it('publishes every operation with its outcome, public id and round trips, never a token or data', async () => {
    subscribe()
    const { token, session } = await store.create('trace-user', { role: 'secret-role' })
    await store.get(token)
    await store.get('not a token')
    await store.update(token, { role: 'other-secret-role' })
    const rotated = await store.rotate(token)
    await store.get(token)
    await store.listForUser('trace-user')
    await store.destroyById('trace-user', rotated!.session.id)
    await store.destroy(rotated!.token)
    await store.destroyForUser('trace-user')

    expect(finished('x:session:create')).toEqual([
      { roundTrips: 1, sessionId: session.id, outcome: 'created' },
    ])
    expect(finished('x:session:get')).toEqual([
      { roundTrips: 1, sessionId: session.id, outcome: 'found' },
      { roundTrips: 0, outcome: 'missing' },
      { roundTrips: 1, sessionId: session.id, outcome: 'rotated' },
    ])
    expect(finished('x:session:update')).toEqual([
      { roundTrips: 2, sessionId: session.id, attempts: 1, outcome: 'updated' },
    ])
    expect(finished('x:session:rotate')).toEqual([
      { roundTrips: 1, sessionId: session.id, outcome: 'rotated' },
    ])
    expect(finished('x:session:listForUser')).toEqual([{ roundTrips: 1, outcome: 'listed', count: 1 }])
    expect(finished('x:session:destroyById')).toEqual([
      { roundTrips: 1, sessionId: rotated!.session.id, outcome: 'destroyed' },
    ])
    expect(finished('x:session:destroy')).toEqual([
      { roundTrips: 1, sessionId: rotated!.session.id, outcome: 'missing' },
    ])
    expect(finished('x:session:destroyForUser')).toEqual([{ roundTrips: 1, outcome: 'destroyed', count: 0 }])

    const published = JSON.stringify(events)
    for (const secret of [
      token,
      rotated!.token,
      token.split('.')[2]!,
      rotated!.token.split('.')[2]!,
      'secret-role',
    ]) {
      expect(published).not.toContain(secret)
    }
  })

  it('publishes a failure on the error channel with outcome conflict and the public id only', async () => {
    const { token, session } = await store.create('trace-user-2', { role: 'user' })
    await store.rotate(token)
    subscribe()
    await expect(store.update(token, { role: 'admin' })).rejects.toSatisfy((error) =>
      SessionConflictError.isInstance(error),
    )
    const failures = events.filter((event) => event.phase === 'error')
    expect(failures).toHaveLength(1)
    expect(failures[0]!.channel).toBe('x:session:update')
    expect(failures[0]!.context).toMatchObject({ sessionId: session.id, outcome: 'conflict' })
    const error = failures[0]!.context.error
    expect(SessionConflictError.isInstance(error) && error.sessionId).toBe(session.id)
    expect(JSON.stringify(events)).not.toContain(token.split('.')[2])
    expect(String((error as Error).message)).not.toContain(token.split('.')[2])
  })

  it('rejects bad input through the channel instead of throwing synchronously', async () => {
    subscribe()
    const result = store.create('', { role: 'x' })
    await expect(result).rejects.toThrow(/userId/)
    expect(events.filter((event) => event.phase === 'error').map((event) => event.channel)).toEqual([
      'x:session:create',
    ])
  })
})
