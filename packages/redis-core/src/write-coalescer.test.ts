import { randomBytes } from 'node:crypto'
import type { Socket } from 'node:net'
import { type RedisCluster, startCluster, waitFor } from '@x/testkit'
import { targets, useRedis } from '@x/testkit/vitest'
import type { Cluster, Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { masters, slotOf } from './cluster.js'
import { defineScript } from './define-script.js'
import { RedisUnavailableError, TimeoutError } from './errors.js'
import { waitForReady } from './ready.js'
import { createRedisCaller } from './redis-caller.js'

// A comment unique to this run gives the scripts SHAs no other test file loads or flushes.
const tag = `-- run ${randomBytes(6).toString('hex')}\n`

// KEYS[1] any key; ARGV[1] 'fail' to answer an error, else echoed back.
const echoOrFail = defineScript<{ keys: [key: string]; args: [mode: string]; result: string }>({
  name: 'test:echo-or-fail',
  keys: 1,
  lua: `${tag}if ARGV[1] == 'fail' then return redis.error_reply('ERR asked to fail') end
return ARGV[1]`,
})

// KEYS[1] any key. Keeps its node busy for a while, so later calls queue behind it.
const slow = defineScript<{ keys: [key: string]; args: []; result: number }>({
  name: 'test:slow',
  keys: 1,
  lua: `${tag}local n = 0 for i = 1, 3000000 do n = n + 1 end return n`,
})

const socketOf = (node: Redis) => (node as unknown as { stream: Socket }).stream
const nextTick = () => new Promise<void>((resolve) => process.nextTick(resolve))

/** One key per master, each owned by a different node (as the client maps slots now). */
function keyPerMaster(client: Cluster, prefix: string): Map<Redis, string> {
  const byNode = new Map<Redis, string>()
  const nodes = masters(client)
  for (let index = 0; byNode.size < nodes.length; index++) {
    const key = `${prefix}:k${index}`
    const owner = client.slots[slotOf(key)]?.[0]
    const node = nodes.find((candidate) => `${candidate.options.host}:${candidate.options.port}` === owner)
    if (node && !byNode.has(node)) byNode.set(node, key)
  }
  return byNode
}

/** Connects every master (ioredis opens node connections on their first command). */
async function connectMasters(client: Cluster): Promise<void> {
  await waitForReady(client, 20_000)
  await Promise.all(masters(client).map((node) => node.ping()))
}

/** No node socket is left corked, nothing is left buffered behind a cork. */
function expectUncorked(client: Cluster): void {
  for (const node of client.nodes('all')) {
    const socket = socketOf(node)
    if (!socket) continue
    expect(socket.writableCorked).toBe(0)
  }
}

const cluster = targets().find((target) => target.name === 'cluster')

describe('write coalescing on a Cluster (shared cluster)', () => {
  const client = useRedis(cluster as NonNullable<typeof cluster>) as Cluster
  const prefix = `${cluster?.prefix}:wc`
  beforeAll(() => connectMasters(client))

  it('writes a lone call at once, uncorked', async () => {
    const caller = createRedisCaller(client, { timeoutMs: 10_000 })
    const reply = caller.call('PING')
    expectUncorked(client)
    expect(await reply).toBe('PONG')
  })

  it('corks every ready node socket from the second call of a tick until the next tick', async () => {
    const caller = createRedisCaller(client, { timeoutMs: 10_000 })
    const replies = [caller.call('PING'), caller.call('PING')]
    for (const node of masters(client)) expect(socketOf(node).writableCorked).toBe(1)
    await nextTick()
    expectUncorked(client)
    for (const node of masters(client)) expect(socketOf(node).writableLength).toBe(0)
    expect(await Promise.all(replies)).toEqual(['PONG', 'PONG'])
  })

  it('flushes every node after 16 corked calls per node and once more at the end of the tick', async () => {
    const nodes = client.nodes('all').filter((node) => node.status === 'ready')
    const spies = nodes.map((node) => vi.spyOn(socketOf(node), 'uncork'))
    try {
      const caller = createRedisCaller(client, { timeoutMs: 10_000 })
      const calls = 16 * nodes.length + 5
      const replies = Array.from({ length: calls }, (_, index) => caller.call('ECHO', String(index)))
      for (const spy of spies) expect(spy).toHaveBeenCalledTimes(1)
      await nextTick()
      for (const spy of spies) expect(spy).toHaveBeenCalledTimes(2)
      expect(await Promise.all(replies)).toEqual(Array.from({ length: calls }, (_, index) => String(index)))
    } finally {
      for (const spy of spies) spy.mockRestore()
    }
  })

  it('keeps the order of many concurrent calls per key, on every node at once', async () => {
    const caller = createRedisCaller(client, { timeoutMs: 10_000 })
    const keys = [...keyPerMaster(client, `${prefix}:order`).values()]
    // Interleaved in one tick: every node's socket holds a share of the batch.
    const calls = Array.from({ length: 300 }, () => keys.map((key) => caller.call<number>('INCR', key)))
    const replies = await Promise.all(calls.map((row) => Promise.all(row)))
    keys.forEach((_, column) => {
      expect(replies.map((row) => row[column])).toEqual(Array.from({ length: 300 }, (_, index) => index + 1))
    })
    expectUncorked(client)
  })

  it('rejects only the calls that failed in a batch spread over the nodes', async () => {
    const caller = createRedisCaller(client, { timeoutMs: 10_000 })
    const keys = [...keyPerMaster(client, `${prefix}:mixed`).values()]
    const results = await Promise.allSettled(
      Array.from({ length: 90 }, (_, index) =>
        caller.script(echoOrFail, [keys[index % keys.length]!], [index % 7 === 3 ? 'fail' : `ok${index}`]),
      ),
    )
    results.forEach((result, index) => {
      if (index % 7 === 3) {
        expect(result.status).toBe('rejected')
        expect(String((result as PromiseRejectedResult).reason?.message)).toContain('asked to fail')
      } else {
        expect(result).toEqual({ status: 'fulfilled', value: `ok${index}` })
      }
    })
    expectUncorked(client)
  })

  it('settles every call of a batch when one node connection is killed in its middle', async () => {
    const caller = createRedisCaller(client, { timeoutMs: 10_000 })
    const byNode = keyPerMaster(client, `${prefix}:killed`)
    const [victim, victimKey] = [...byNode][0]!
    const admin = cluster!.client() as Cluster
    await connectMasters(admin)
    const id = String(await victim.client('ID'))
    const victimAdmin = masters(admin).find(
      (node) => node.options.host === victim.options.host && node.options.port === victim.options.port,
    )!
    // The slow call keeps the victim's node busy, so the kill lands among the calls queued behind it.
    const batch = [
      caller.script(slow, [victimKey]),
      ...Array.from({ length: 100 }, () =>
        [...byNode.values()].map((key) => caller.call<number>('INCR', key)),
      ).flat(),
    ]
    const settled = Promise.allSettled(batch)
    await victimAdmin.client('KILL', 'ID', id)
    const results = await settled
    await waitFor('the killed node connection to end', () => victim.status === 'end')
    // ioredis re-sends a call cut by the closed connection to another node (then follows MOVED), or
    // the call fails: either way it settles, and no socket stays corked.
    for (const result of results.slice(1)) {
      if (result.status === 'fulfilled') expect(typeof result.value).toBe('number')
      else expect(RedisUnavailableError.isInstance(result.reason)).toBe(true)
    }
    expectUncorked(client)
    // The client answers again on every node.
    const again = await Promise.all([...byNode.values()].map((key) => caller.call<string>('GET', key)))
    expect(again.every((value) => Number(value) > 0)).toBe(true)
    admin.disconnect()
  })
})

describe('write coalescing on a Cluster (private cluster)', () => {
  let privateCluster: RedisCluster
  beforeAll(async () => {
    privateCluster = await startCluster()
  }, 120_000)
  afterAll(() => privateCluster?.stop())

  it('times out the calls of a paused node only; the other nodes answer theirs from the same batch', async () => {
    const client = privateCluster.client()
    await connectMasters(client)
    const caller = createRedisCaller(client, { timeoutMs: 300 })
    const byNode = keyPerMaster(client, 'paused')
    const [pausedNode, pausedKey] = [...byNode][0]!
    const server = privateCluster.nodes.find((node) => node.port === pausedNode.options.port)!
    server.pause()
    try {
      const calls = [...byNode.values()].map((key) => caller.call<number>('INCR', key))
      const results = await Promise.allSettled(calls)
      ;[...byNode.values()].forEach((key, index) => {
        const result = results[index]!
        if (key === pausedKey) {
          expect(result.status).toBe('rejected')
          expect(TimeoutError.isInstance((result as PromiseRejectedResult).reason)).toBe(true)
        } else expect(result).toEqual({ status: 'fulfilled', value: 1 })
      })
      expectUncorked(client)
    } finally {
      server.resume()
    }
    // The late reply is dropped; the node answers again.
    const patient = createRedisCaller(client, { timeoutMs: 20_000 })
    expect(await patient.call<number>('INCR', pausedKey)).toBe(2)
  })

  it('follows MOVED for every call of a batch that was coalesced on the old owner', async () => {
    const client = privateCluster.client()
    await connectMasters(client)
    const caller = createRedisCaller(client, { timeoutMs: 10_000 })
    const key = 'moving-counter'
    expect(await caller.call<number>('INCR', key)).toBe(1)

    // Move the key's slot to the next node behind the client's back: its slot map is now stale.
    const slot = slotOf(key)
    const admins = privateCluster.nodes.map((node) => node.client())
    const ids = await Promise.all(admins.map((admin) => admin.call('CLUSTER', 'MYID') as Promise<string>))
    const slots = (await admins[0]!.call('CLUSTER', 'SLOTS')) as Array<
      [number, number, [string, number, string]]
    >
    const ownerId = slots.find(([start, end]) => start <= slot && slot <= end)?.[2][2]
    const from = ids.indexOf(ownerId as string)
    const to = (from + 1) % ids.length
    const targetNode = privateCluster.nodes[to]!
    await admins[to]!.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', ids[from]!)
    await admins[from]!.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', ids[to]!)
    await admins[from]!.call('MIGRATE', targetNode.host, targetNode.port, '', 0, 5000, 'KEYS', key)
    for (const admin of [
      admins[to]!,
      admins[from]!,
      ...admins.filter((_, index) => index !== to && index !== from),
    ])
      await admin.call('CLUSTER', 'SETSLOT', slot, 'NODE', ids[to]!)
    const oldOwner = masters(client).find((node) => node.options.port === privateCluster.nodes[from]!.port)!
    const corks = vi.spyOn(socketOf(oldOwner), 'cork')

    try {
      // One tick: every call is corked on the old owner's socket, answered MOVED, re-sent by ioredis.
      const batch = Array.from({ length: 200 }, () => caller.call<number>('INCR', key))
      expect(corks).toHaveBeenCalled()
      const replies = await Promise.all(batch)
      expect([...replies].sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, index) => index + 2))
      expect(await caller.call<string>('GET', key)).toBe('201')
      expectUncorked(client)
    } finally {
      corks.mockRestore()
    }
  })
})
