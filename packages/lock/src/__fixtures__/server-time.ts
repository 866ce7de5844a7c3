import type { Cluster, Redis } from 'ioredis'

/**
 * The Redis server's clock in µs (TIME). Every fence minted after this call is at or above it:
 * the floor of `mintFence`. (The test servers share this machine's clock, whichever Cluster node
 * answers.)
 */
export async function serverTimeUs(client: Redis | Cluster): Promise<number> {
  const [seconds, micros] = await client.time()
  return Number(seconds) * 1_000_000 + Number(micros)
}
