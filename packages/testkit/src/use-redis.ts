import { Cluster, Redis } from 'ioredis'
import { afterAll } from 'vitest'
import type { Target } from './targets.js'

type Client = Redis | Cluster

/**
 * A client for `target` that closes itself after the enclosing `describe` (or file), so a test
 * file never needs its own beforeAll/afterAll pair. `create` makes the client from the target's
 * connection options — pass `createRedis` from @x/redis-core to test with its defaults; without it,
 * a plain ioredis client is made.
 *
 * ```ts fragment
 * describe.each(targets())('$name', (target) => {
 *   const redis = useRedis(target, createRedis)
 *   it('works', async () => expect(await redis.ping()).toBe('PONG'))
 * })
 * ```
 */
export function useRedis<T extends Client = Client>(
  target: Pick<Target, 'connection'>,
  create?: (connection: Target['connection']) => T,
): T {
  const client = create ? create(target.connection) : (plainClient(target.connection) as T)
  afterAll(() => closeClient(client))
  return client
}

function plainClient(connection: Target['connection']): Client {
  const client = 'url' in connection ? new Redis(connection.url) : new Cluster(connection.clusterNodes)
  client.on('error', () => {})
  return client
}

/** QUIT when the client is ready (so in-flight replies arrive), else drop it; waits for 'end', never hangs. */
async function closeClient(client: Client): Promise<void> {
  if (client.status === 'end') return
  const ended = new Promise<boolean>((resolve) => client.once('end', () => resolve(true)))
  if (client.status === 'ready') {
    client.quit().catch(() => {})
    if (await within(ended, 2000)) return
  }
  client.disconnect()
  await within(ended, 2000)
}

async function within(promise: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms)
  })
  try {
    return await Promise.race([promise, late])
  } finally {
    clearTimeout(timer)
  }
}
