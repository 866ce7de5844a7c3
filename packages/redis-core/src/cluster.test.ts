import { startRedis } from '@x/testkit'
import { targets, useRedis } from '@x/testkit/vitest'
import type { Cluster } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { groupBySlot, isCluster, masters, scanKeys, slotOf, unlinkByPattern } from './cluster.js'
import { createRedis } from './create-redis.js'
import { keyspace } from './keyspace.js'

describe.each(targets())('cluster helpers on $name', (target) => {
  const redis = useRedis(target, createRedis)
  const keys = keyspace(target.prefix)

  it('finds the masters', () => {
    expect(isCluster(redis)).toBe(target.name === 'cluster')
  })

  it('computes the same slot as CLUSTER KEYSLOT', async () => {
    const inspector = target.client()
    for (const key of [
      'a',
      'user:1000',
      '{user1000}.following',
      'foo{}{bar}',
      'foo{{bar}}zap',
      '€',
      keys.key('x'),
    ]) {
      const expected = await inspector.call('CLUSTER', 'KEYSLOT', key).catch(() => null)
      if (expected === null) continue // not a cluster node: CLUSTER KEYSLOT is refused
      expect(slotOf(key)).toBe(Number(expected))
    }
    expect(slotOf('123456789')).toBe(12739) // the CRC16/XMODEM check value, mod 16384
  })

  it('scanKeys visits every key on every master, never KEYS', async () => {
    const written = Array.from({ length: 300 }, (_, i) => keys.key('scan', i))
    await Promise.all(written.map((key) => redis.set(key, '1')))
    const seen = new Set<string>()
    for await (const batch of scanKeys(redis, { match: `${keys.key('scan')}:*`, count: 50 })) {
      for (const key of batch) seen.add(key)
    }
    expect(seen.size).toBe(300)
    if (isCluster(redis)) {
      // The keys really are spread across several masters.
      const perMaster = await Promise.all(
        masters(redis).map(
          async (node) => (await node.scan('0', 'MATCH', `${keys.key('scan')}:*`, 'COUNT', 1000))[1].length,
        ),
      )
      expect(perMaster.filter((count) => count > 0).length).toBeGreaterThan(1)
    }
  })

  it('unlinkByPattern removes matching keys on every master and nothing else', async () => {
    const doomed = Array.from({ length: 200 }, (_, i) => keys.key('doomed', i))
    await Promise.all(doomed.map((key) => redis.set(key, '1')))
    await redis.set(keys.key('kept'), '1')
    expect(await unlinkByPattern(redis, { match: `${keys.key('doomed')}:*`, count: 20 })).toBe(200)
    for (const key of doomed.slice(0, 20)) expect(await redis.exists(key)).toBe(0)
    expect(await redis.get(keys.key('kept'))).toBe('1')
  })

  it('scanKeys fails with TimeoutError instead of hanging on a paused server', async () => {
    const server = await startRedis()
    const client = server.client()
    await client.set('a', '1')
    server.pause()
    const walk = async () => {
      for await (const _ of scanKeys(client, { match: '*', timeoutMs: 200 })) {
      }
    }
    await expect(walk()).rejects.toMatchObject({ code: 'E_TIMEOUT' })
    await expect(unlinkByPattern(client, { match: '*', timeoutMs: 200 })).rejects.toMatchObject({
      code: 'E_TIMEOUT',
    })
    await server.stop()
  })

  it('groupBySlot makes one group per slot on Cluster and one group on a server', () => {
    const items = ['a', 'b', '{t}1', '{t}2', 'c']
    const groups = groupBySlot(redis, items, (key) => key)
    if (isCluster(redis)) {
      for (const group of groups) expect(new Set(group.map((key) => slotOf(key))).size).toBe(1)
      expect(groups.flat().sort()).toEqual([...items].sort())
      expect(groups.find((group) => group.includes('{t}1'))).toContain('{t}2')
    } else {
      expect(groups).toEqual([items])
    }
    expect(groupBySlot(redis, [], (key: string) => key)).toEqual([])
  })

  it('a pipeline per slot group works on Cluster', async () => {
    const entries = Array.from({ length: 50 }, (_, i) => keys.key('pipe', i))
    for (const group of groupBySlot(redis, entries, (key) => key)) {
      const pipeline = (redis as Cluster).pipeline()
      for (const key of group) pipeline.set(key, 'v')
      const results = await pipeline.exec()
      expect(results?.every(([error]) => error === null)).toBe(true)
    }
    expect(await redis.get(keys.key('pipe', 49))).toBe('v')
  })
})
