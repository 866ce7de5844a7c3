import { createRedis } from '@x/redis-core'
import { targets, uniqueName, useRedis } from '@x/testkit/vitest'
import { describe, expect, it } from 'vitest'
import { parseEntry } from '../envelope.js'
import { entryHeader } from '../keys.js'
import { acquireLeaseScript } from './acquire-lease.lua.js'
import { deleteScript } from './delete.lua.js'
import { fillScript } from './fill.lua.js'
import { invalidateTagsScript } from './invalidate-tags.lua.js'
import { releaseLeaseScript } from './release-lease.lua.js'
import { tagVersionsScript } from './tag-versions.lua.js'
import { writeScript } from './write.lua.js'

// A changed script is a new SHA on every server: this pin makes the change visible in review.
it('every script has its pinned SHA and a cache:<operation> name', () => {
  const pinned = Object.fromEntries(
    [
      acquireLeaseScript,
      deleteScript,
      fillScript,
      invalidateTagsScript(1),
      releaseLeaseScript,
      tagVersionsScript(1),
      writeScript,
    ].map((script) => [script.name, script.sha]),
  )
  expect(pinned).toEqual({
    'cache:acquireLease': '44986cce135fe50d38539451f95ea5d638f50604',
    'cache:delete': '523a0df8eb09f0709faad6fa765697cdfd0d4aa2',
    'cache:fill': '44f47866436ea31bc2d6db309a7ff40020720faf',
    'cache:invalidateTags': 'f40abeb48a2d316ed4722be8aca94ecc17b291f2',
    'cache:releaseLease': 'e2e36c28a937758e35e227c8405e834bd0417c0b',
    'cache:tagVersions': 'e13cca03b8ce8926ce854284d8200d300dccd78b',
    'cache:write': '1bd6e7f1d51f59eb4e15102d55d04b7308ae48b6',
  })
  // The tag scripts take any number of keys with the same source.
  expect(tagVersionsScript(3).sha).toBe(tagVersionsScript(1).sha)
})

describe.each(targets())('$name', (target) => {
  const redis = useRedis(target, createRedis)
  const key = () => `${target.prefix}:${uniqueName('script')}`

  const read = async (name: string) => {
    const raw = await redis.get(name)
    return raw === null ? null : parseEntry(raw)
  }

  it('fill writes when absent, keeps the generation, refuses a changed one', async () => {
    const name = key()
    const [written, now] = await fillScript.run(redis, [name], ['0', 1000, 500, '0|s1'])
    expect(written).toBe(1)
    const entry = await read(name)
    expect(entry).toMatchObject({
      kind: 'value',
      generation: '0',
      freshUntil: now + 1000,
      hardUntil: now + 1500,
    })
    expect(await redis.pttl(name)).toBeGreaterThan(1000)
    const [, , generation] = await deleteScript.run(redis, [name], [60_000])
    expect((await fillScript.run(redis, [name], ['0', 1000, 0, '0|s2']))[0]).toBe(0)
    expect((await fillScript.run(redis, [name], [generation, 1000, 0, '0|s3']))[0]).toBe(1)
    expect(await read(name)).toMatchObject({ generation, payload: '3' })
  })

  it('fill overwrites foreign data and other types', async () => {
    const name = key()
    await redis.hset(name, 'a', 'b')
    expect((await fillScript.run(redis, [name], ['7', 1000, 0, '0|s1']))[0]).toBe(1)
    await redis.set(name, 'c1|5|junk')
    expect((await fillScript.run(redis, [name], ['0', 1000, 0, '0|s1']))[0]).toBe(1)
  })

  it('delete leaves a tombstone with a strictly newer generation and says whether a value existed', async () => {
    const name = key()
    const [existedBefore, , first] = await deleteScript.run(redis, [name], [60_000])
    expect(existedBefore).toBe(0)
    expect(await read(name)).toEqual({ kind: 'tombstone', generation: first })
    await fillScript.run(redis, [name], [first, 1000, 0, '0|s1'])
    const [existed, , second] = await deleteScript.run(redis, [name], [60_000])
    expect(existed).toBe(1)
    expect(BigInt(second)).toBeGreaterThan(BigInt(first))
  })

  it('write set bumps the generation; commit stores only on the expected generation, else tombstones', async () => {
    const name = key()
    const [stored, , generation] = await writeScript.run(redis, [name], ['set', '', 1000, 0, '0|s1', 60_000])
    expect(stored).toBe(1)
    expect((await fillScript.run(redis, [name], ['0', 1000, 0, '0|sold']))[0]).toBe(0)
    const [committed, , next] = await writeScript.run(
      redis,
      [name],
      ['commit', generation, 1000, 0, '0|s2', 60_000],
    )
    expect(committed).toBe(1)
    const [refused, , tomb] = await writeScript.run(
      redis,
      [name],
      ['commit', generation, 1000, 0, '0|s3', 60_000],
    )
    expect(refused).toBe(0)
    expect(await read(name)).toEqual({ kind: 'tombstone', generation: tomb })
    expect(BigInt(tomb)).toBeGreaterThan(BigInt(next))
  })

  it('tag versions are created on demand, bumped by invalidate, and read-only reads do not create', async () => {
    const base = `${target.prefix}:tags:{${target.prefix}}:`
    const name = uniqueName('tag')
    const keys = [`${base}a${name}`, `${base}b${name}`]
    expect(await tagVersionsScript(2).run(redis, keys, [0])).toEqual(['0', '0'])
    const [a, b] = await tagVersionsScript(2).run(redis, keys, [10_000])
    expect(a).toMatch(/^\d{16,}$/)
    expect(await redis.pttl(keys[0]!)).toBeGreaterThan(9_000)
    expect(await invalidateTagsScript(1).run(redis, [keys[0]!])).toBe(1)
    const [a2, b2] = await tagVersionsScript(2).run(redis, keys, [0])
    expect(BigInt(a2!)).toBeGreaterThan(BigInt(a!))
    expect(b2).toBe(b)
    expect(await invalidateTagsScript(1).run(redis, [`${base}missing`])).toBe(0)
  })

  it('acquire lease takes it only while the entry is what the caller read, else returns the entry', async () => {
    const entry = key()
    const lease = `${entry}:lease`
    const hashed = `{${entry}}`
    const leaseKey = target.name === 'cluster' ? `${hashed}:l` : lease
    const entryKey = target.name === 'cluster' ? `${hashed}:v` : entry
    expect(await acquireLeaseScript.run(redis, [entryKey, leaseKey], ['', 'a', 10_000])).toEqual([1])
    expect(await acquireLeaseScript.run(redis, [entryKey, leaseKey], ['', 'b', 10_000])).toEqual([0])
    await fillScript.run(redis, [entryKey], ['0', 10_000, 0, '0|s1'])
    const [changed, raw] = (await acquireLeaseScript.run(redis, [entryKey, leaseKey], ['', 'c', 10_000])) as [
      number,
      string,
    ]
    expect(changed).toBe(2)
    expect(parseEntry(raw)).toMatchObject({ kind: 'value', payload: '1' })
    await redis.del(leaseKey)
    expect(
      await acquireLeaseScript.run(redis, [entryKey, leaseKey], [entryHeader(raw), 'd', 10_000]),
    ).toEqual([1])
  })

  it('release lease deletes only our own lease', async () => {
    const name = key()
    await redis.set(name, 'mine', 'PX', 10_000)
    expect(await releaseLeaseScript.run(redis, [name], ['theirs'])).toBe(0)
    expect(await releaseLeaseScript.run(redis, [name], ['mine'])).toBe(1)
    expect(await redis.exists(name)).toBe(0)
  })
})
