import { createRedis } from '@x/redis-core'
import { targets, useRedis } from '@x/testkit/vitest'
import { afterAll, describe, expect, it } from 'vitest'
import { expressDestroy } from './express-destroy.lua.js'
import { expressIndexAdd } from './express-index-add.lua.js'
import { expressSet } from './express-set.lua.js'
import { sessionCreate } from './session-create.lua.js'
import { sessionDestroy } from './session-destroy.lua.js'
import { sessionGetScript } from './session-get.lua.js'
import { sessionRotate } from './session-rotate.lua.js'
import { sessionUpdate } from './session-update.lua.js'
import { userDestroy } from './user-destroy.lua.js'
import { userList } from './user-list.lua.js'

// The store tests drive every script through the API; these pin the scripts' own contracts
// (reply shapes, "never creates a key") directly on a real server and the cluster.
describe.each(targets())('session scripts on $name', (target) => {
  const redis = useRedis(target, createRedis)
  let n = 0
  const keys = () => {
    const tag = `tag${++n}`
    const base = `${target.prefix}:{${tag}}:`
    return {
      session: `${base}s:id${n}`,
      next: `${base}s:next${n}`,
      sessionPrefix: `${base}s:`,
      index: `${base}u:user`,
      indexPrefix: `${base}u:`,
      id: `id${n}`,
    }
  }
  const create = (k: ReturnType<typeof keys>, idle = 60_000) =>
    sessionCreate.run(
      redis,
      [k.session, k.index],
      ['digest', 'user', 'tdata', idle, 600_000, k.id, 10, '', '', '', k.sessionPrefix],
    )

  afterAll(() => {})

  it('session-create refuses an existing id and returns {now, absolute, evicted}', async () => {
    const k = keys()
    const reply = await create(k)
    expect(reply![1]).toBe(reply![0] + 600_000)
    expect(reply![2]).toBe(0)
    expect(await create(k)).toBeNull()
  })

  it('session-get returns the packed fields and creates nothing for a missing key', async () => {
    const k = keys()
    expect(await sessionGetScript(60_000, 0).run(redis, [k.session], ['digest'])).toBeNull()
    expect(await redis.exists(k.session, k.index)).toBe(0)
    await create(k)
    const reply = await sessionGetScript(60_000, 1000).run(redis, [k.session], ['digest'])
    expect(typeof reply).toBe('string')
    expect(String(reply).split('\x1f')).toEqual([
      'user',
      expect.any(String),
      expect.any(String),
      expect.any(String),
      '1',
      '0',
      'tdata',
    ])
    expect(await sessionGetScript(60_000, 0).run(redis, [k.session], ['wrong'])).toBeNull()
    await redis.hset(k.session, 'a', 'not a number')
    expect(await sessionGetScript(60_000, 0).run(redis, [k.session], ['digest'])).toBe(0)
    expect(await redis.exists(k.session)).toBe(0)
  })

  it('session-update is compare-and-set and never creates a key', async () => {
    const k = keys()
    expect(
      await sessionUpdate.run(redis, [k.session], ['digest', 1, 'tnew', 60_000, k.id, k.indexPrefix]),
    ).toEqual([0])
    expect(await redis.exists(k.session)).toBe(0)
    await create(k)
    expect(
      await sessionUpdate.run(redis, [k.session], ['digest', 7, 'tnew', 60_000, k.id, k.indexPrefix]),
    ).toEqual([2, 1])
    const ok = await sessionUpdate.run(redis, [k.session], ['digest', 1, 'tnew', 60_000, k.id, k.indexPrefix])
    expect(ok[0]).toBe(1)
    expect(ok[1]).toBe(2)
    expect(await redis.hget(k.session, 'd')).toBe('tnew')
  })

  it('session-rotate moves the session and its index entry', async () => {
    const k = keys()
    await create(k)
    const reply = await sessionRotate.run(
      redis,
      [k.session, k.next],
      ['digest', 'digest2', k.id, `next${n}`, 0, 60_000, k.indexPrefix],
    )
    expect(typeof reply).toBe('string')
    const fields = String(reply).split('\x1f')
    expect(fields[0]).toBe('user')
    expect(fields.slice(5)).toEqual(['0', 'tdata'])
    expect(await redis.exists(k.session)).toBe(0)
    expect(await redis.hget(k.next, 'h')).toBe('digest2')
    expect(await redis.zrange(k.index, '0', '-1')).toEqual([`next${n}`])
  })

  it('session-destroy checks the secret or the owner', async () => {
    const k = keys()
    await create(k)
    expect(
      await sessionDestroy.run(redis, [k.session], ['h', 'wrong', k.id, k.sessionPrefix, k.indexPrefix]),
    ).toBe(0)
    expect(
      await sessionDestroy.run(redis, [k.session], ['u', 'other', k.id, k.sessionPrefix, k.indexPrefix]),
    ).toBe(0)
    expect(
      await sessionDestroy.run(redis, [k.session], ['u', 'user', k.id, k.sessionPrefix, k.indexPrefix]),
    ).toBe(1)
    expect(await redis.exists(k.session, k.index)).toBe(0)
  })

  it('session-user-list and session-user-destroy walk the index', async () => {
    const k = keys()
    await create(k)
    const [now, ...rows] = await userList.run(redis, [k.index], [k.sessionPrefix, 60_000])
    expect(now).toBeGreaterThan(0)
    expect(rows.map((row) => row[0])).toEqual([k.id])
    expect(await userDestroy.run(redis, [k.index], [k.sessionPrefix, '', ''])).toBe(1)
    expect(await redis.exists(k.session)).toBe(0)
  })

  it('express scripts: tombstones block saves, the index prunes and keeps the latest expiry', async () => {
    const k = keys()
    const tomb = `${k.session}:t`
    expect(await expressSet.run(redis, [k.session, tomb], ['tvalue', 60_000])).toBe(1)
    expect(await expressDestroy.run(redis, [k.session, tomb], [60_000])).toBe(1)
    expect(await expressSet.run(redis, [k.session, tomb], ['tvalue', 60_000])).toBe(0)
    expect(await redis.exists(k.session)).toBe(0)
    expect(await expressIndexAdd.run(redis, [k.index], ['a', 60_000])).toBe(1)
    const score = Number(await redis.zscore(k.index, 'a'))
    expect(await expressIndexAdd.run(redis, [k.index], ['a', 1_000])).toBe(1)
    expect(Number(await redis.zscore(k.index, 'a'))).toBe(score)
  })
})

// A changed script is a new SHA on every server: this list makes such a change visible in review.
describe('script hashes', () => {
  it.each([
    [sessionCreate, 'session:create', '1666f40a3eadb74f5bbaa0d505ef85812df1c69d'],
    [sessionGetScript(604_800_000, 60_000), 'session:get', '4c4c0fb3bdf82d67a671c8fff101b829d4d84363'],
    [sessionUpdate, 'session:update', '93220fb96b843aacee6024743e0f7ec2f903d6d3'],
    [sessionRotate, 'session:rotate', '8884b23994c744e449f8cdf2014305c24393d2ac'],
    [sessionDestroy, 'session:destroy', '7da06cdba9c16ce15ca92bc9fe1dbc0eff888b68'],
    [userList, 'session:listForUser', '18dd46901ef6048fd6b4f30f138c28628fbc40fe'],
    [userDestroy, 'session:destroyForUser', '3aa4b62a2e644998b2e717e6042ce9e5becac950'],
    [expressSet, 'session:express-set', '3b9d7466c9a2c388fc6b470300af899359745293'],
    [expressDestroy, 'session:express-destroy', '2680552c6f1c8da92bb51ce24b5fb618ef9ebf8d'],
    [expressIndexAdd, 'session:express-index-add', '011764f9fba0a34377caa25cce8efe47742bca6d'],
  ] as const)(' keeps its SHA', (script, name, sha) => {
    expect(script.name).toBe(name)
    expect(script.sha).toBe(sha)
  })
})
