import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AppProcess, startApp } from './harness/app-process.js'

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

describe('a fresh machine: no REDIS_URL, no DATABASE_URL', () => {
  let app: AppProcess | undefined
  beforeAll(async () => {
    app = await startApp({ name: 'solo' })
  }, 120_000)
  afterAll(async () => {
    await app?.stop()
  }, 30_000)

  it('starts a throwaway redis-server, says so, and prints the URL and example curl commands', async () => {
    const output = app!.output()
    expect(output).toMatch(
      /REDIS_URL is not set: started a throwaway redis-server at redis:\/\/127\.0\.0\.1:\d+/,
    )
    expect(output).toContain(`listening on ${app!.url}`)
    expect(output).toContain(`curl ${app!.url}/health`)
    expect(output).toContain('PGlite in memory')
  })

  it('answers GET /health with the Redis and database status, on the PORT it was given', async () => {
    const response = await app!.fetch('/health')
    expect(response.status).toBe(200)
    const body = await response.json()
    expect(body).toMatchObject({
      status: 'ok',
      instance: 'solo',
      redis: { ok: true },
      database: { ok: true, kind: 'pglite' },
    })
  })

  it('shuts down on SIGTERM with exit code 0 and stops its throwaway redis-server', async () => {
    const match = /throwaway redis-server at redis:\/\/127\.0\.0\.1:(\d+)/.exec(app!.output())
    const redisPort = Number(match![1])
    expect(await portAnswers(redisPort)).toBe(true)
    expect(await app!.stop()).toBe(0)
    expect(await portAnswers(redisPort)).toBe(false)
    expect(app!.output()).toContain('SIGTERM: shutting down')
  })
})
