import { describe, expect, it } from 'vitest'
import { loadConfig } from './config.js'

describe('loadConfig', () => {
  it('has defaults that run on a machine with nothing configured', () => {
    const config = loadConfig({}, [])
    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      redisUrl: undefined,
      databaseUrl: undefined,
      pgliteDir: undefined,
      keyPrefix: 'playground',
      ipLimitPerMinute: 600,
      userLimitPerMinute: 120,
      loginAttemptsPerAccount: 10,
      loginAttemptsPerIp: 30,
      eventStreamsPerClient: 8,
      eventStreamsTotal: 500,
      instances: 1,
      peerUrls: [],
      cookieSecure: false,
    })
    expect(config.cookieSecrets[0]!.length).toBeGreaterThanOrEqual(32)
  })

  it('reads the environment; empty values count as unset', () => {
    const config = loadConfig({
      PORT: '8080',
      REDIS_URL: ' ',
      DATABASE_URL: 'postgres://localhost/app',
      PGLITE_DIR: '/tmp/pg',
      INSTANCE_ID: 'A',
      COOKIE_SECURE: 'true',
      COOKIE_SECRETS: 'new-key-new-key-new-key-new-key-1, old-key-old-key-old-key-old-key-1',
    })
    expect(config.port).toBe(8080)
    expect(config.redisUrl).toBeUndefined()
    expect(config.databaseUrl).toBe('postgres://localhost/app')
    expect(config.instanceId).toBe('A')
    expect(config.cookieSecure).toBe(true)
    expect(config.cookieSecrets).toEqual([
      'new-key-new-key-new-key-new-key-1',
      'old-key-old-key-old-key-old-key-1',
    ])
  })

  it('takes the number of instances from --instances or INSTANCES', () => {
    expect(loadConfig({}, ['--instances', '2']).instances).toBe(2)
    expect(loadConfig({ INSTANCES: '3' }, []).instances).toBe(3)
    expect(() => loadConfig({}, ['--instances', 'many'])).toThrow(/INSTANCES must be an integer/)
  })

  it('refuses a bad number with the variable in the message', () => {
    expect(() => loadConfig({ PORT: 'http' })).toThrow(/PORT must be an integer/)
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT/)
    expect(() => loadConfig({ RATE_LIMIT_USER_PER_MINUTE: '0' })).toThrow(/RATE_LIMIT_USER_PER_MINUTE/)
  })
})
