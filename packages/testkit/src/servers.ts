import { type RedisServer, type StartRedisOptions, startRedis } from './redis-server.js'

/** N independent servers (for Redlock); stop them together with `stopAll`. */
export async function startServers(count: number, options: StartRedisOptions = {}): Promise<RedisServer[]> {
  return Promise.all(Array.from({ length: count }, () => startRedis(options)))
}

export async function stopAll(servers: readonly { stop(): Promise<void> }[]): Promise<void> {
  await Promise.all(servers.map((server) => server.stop()))
}
