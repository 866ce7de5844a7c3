import { describe, expect, it } from 'vitest'
import { resolveRedisConfig } from './config.js'
import { InvalidArgumentError } from './errors.js'

describe('resolveRedisConfig', () => {
  it('defaults to 127.0.0.1:6379 db 0 without env', () => {
    expect(resolveRedisConfig({}, {})).toEqual({ mode: 'standalone', host: '127.0.0.1', port: 6379, db: 0 })
  })

  it('reads REDIS_URL with user, password and db', () => {
    const config = resolveRedisConfig({}, { REDIS_URL: 'redis://alice:s%3Acret@cache.internal:6380/4' })
    expect(config).toEqual({
      mode: 'standalone',
      host: 'cache.internal',
      port: 6380,
      db: 4,
      username: 'alice',
      password: 's:cret',
    })
  })

  it('reads a password-only URL', () => {
    const config = resolveRedisConfig({}, { REDIS_URL: 'redis://:hunter2@localhost:6379' })
    expect(config).toMatchObject({ password: 'hunter2', db: 0 })
    expect(config).not.toHaveProperty('username')
  })

  it('turns rediss:// into TLS', () => {
    expect(resolveRedisConfig({}, { REDIS_URL: 'rediss://h:6390' })).toMatchObject({ tls: {}, port: 6390 })
  })

  it('reads REDIS_HOST, REDIS_PORT, REDIS_PASSWORD, REDIS_DB and REDIS_TLS', () => {
    const config = resolveRedisConfig(
      {},
      { REDIS_HOST: 'db', REDIS_PORT: '7000', REDIS_PASSWORD: 'pw', REDIS_DB: '2', REDIS_TLS: 'true' },
    )
    expect(config).toEqual({ mode: 'standalone', host: 'db', port: 7000, db: 2, password: 'pw', tls: {} })
  })

  it('lets explicit options win over the environment', () => {
    const config = resolveRedisConfig(
      { host: 'explicit', port: 1234 },
      { REDIS_HOST: 'env', REDIS_PORT: '7000' },
    )
    expect(config).toMatchObject({ host: 'explicit', port: 1234 })
  })

  it('lets the URL win over REDIS_HOST', () => {
    expect(resolveRedisConfig({}, { REDIS_URL: 'redis://a:1', REDIS_HOST: 'b' })).toMatchObject({
      host: 'a',
      port: 1,
    })
  })

  it('reads REDIS_CLUSTER_NODES into a cluster config and keeps the URL password', () => {
    const config = resolveRedisConfig(
      {},
      { REDIS_CLUSTER_NODES: '10.0.0.1:7000, 10.0.0.2:7001', REDIS_URL: 'redis://:pw@ignored:1' },
    )
    expect(config).toEqual({
      mode: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
      ],
      password: 'pw',
    })
  })

  it('reads sentinels with the master name', () => {
    const config = resolveRedisConfig(
      {},
      { REDIS_SENTINELS: 's1:26379,s2:26379', REDIS_SENTINEL_NAME: 'main' },
    )
    expect(config).toMatchObject({
      mode: 'sentinel',
      name: 'main',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
    })
  })

  it('accepts IPv6 hosts', () => {
    expect(resolveRedisConfig({}, { REDIS_URL: 'redis://[::1]:6400' })).toMatchObject({
      host: '::1',
      port: 6400,
    })
    expect(resolveRedisConfig({}, { REDIS_CLUSTER_NODES: '[::1]:7000' })).toMatchObject({
      nodes: [{ host: '::1', port: 7000 }],
    })
  })

  it.each([
    [{ REDIS_URL: 'http://x:1' }, /redis:\/\//],
    [{ REDIS_URL: 'not a url' }, /valid URL/],
    [{ REDIS_URL: 'redis://h:1/x' }, /database/],
    [{ REDIS_PORT: 'abc' }, /REDIS_PORT/],
    [{ REDIS_PORT: '70000' }, /port/],
    [{ REDIS_DB: '1.5' }, /REDIS_DB/],
    [{ REDIS_TLS: 'maybe' }, /REDIS_TLS/],
    [{ REDIS_CLUSTER_NODES: 'hostonly' }, /host:port/],
  ])('rejects bad settings %o', (env, message) => {
    expect(() => resolveRedisConfig({}, env)).toThrow(InvalidArgumentError)
    expect(() => resolveRedisConfig({}, env)).toThrow(message)
  })

  it('names the url option, not REDIS_URL, when the URL came from the options', () => {
    expect(() => resolveRedisConfig({ url: 'http://x:1' }, {})).toThrow(/^url must start with redis:\/\//)
    expect(() => resolveRedisConfig({}, { REDIS_URL: 'http://x:1' })).toThrow(/^REDIS_URL must start/)
  })

  it('ignores empty variables', () => {
    expect(resolveRedisConfig({}, { REDIS_URL: '', REDIS_HOST: ' ', REDIS_PORT: '' })).toMatchObject({
      host: '127.0.0.1',
      port: 6379,
    })
  })
})
